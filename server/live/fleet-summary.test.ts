import { describe, expect, it } from "vitest";
import { fleetDirector } from "./fleet-summary";
import type { DirectorOwner } from "./owner-view";
import type { DirectorSnapshot, DirectorStatus } from "./types";

const snapshot = (directorId: string, takenAt: number): DirectorSnapshot => ({
  directorId,
  clusterId: "web",
  version: "v1",
  takenAt,
  services: [],
  sysctls: {},
  ipvsadm: { ipvsadm: "1.31", ipvs: "1.2.1", raw: "ipvsadm v1.31" },
  timeouts: null,
  connectionCount: 7,
  owner: null,
});

const status = (directorId: string, takenAt: number): DirectorStatus => ({
  directorId,
  clusterId: "web",
  reachability: "live",
  snapshot: snapshot(directorId, takenAt),
  error: null,
  lastSuccessAt: takenAt,
  nextRetryAt: null,
});

describe("the fleet summary", () => {
  it("reduces a status to its row, once per status object", () => {
    const s = status("lb1", 1000);
    const row = fleetDirector(s);
    expect(row).not.toHaveProperty("snapshot");
    expect(row.summary).toMatchObject({ takenAt: 1000, ipvsadm: "1.31", connectionCount: 7 });
    expect(row.summary?.totals).toEqual({
      cps: 0,
      bps: 0,
      activeConns: 0,
      inactiveConns: 0,
      services: 0,
      realservers: 0,
    });
    expect(fleetDirector(s)).toBe(row);
  });

  it("carries only the owner the row's badges show", () => {
    const finding = (severity: "error" | "warning", line: number) => ({
      severity,
      file: "/etc/keepalived/keepalived.conf",
      line,
      message: "what",
      text: `/etc/keepalived/keepalived.conf:${line}: what`,
    });
    const owner: DirectorOwner = {
      readAt: 900,
      costMs: 40,
      summary: { kind: "keepalived", label: "keepalived 2.2.7 owns 1 service" },
      keepalived: {
        installed: true,
        running: true,
        pid: 321,
        version: "2.2.7",
        configPath: "/etc/keepalived/keepalived.conf",
        files: ["/etc/keepalived/keepalived.conf"],
        dumpRead: true,
      },
      vrrp: [{ name: "VI_1", state: "MASTER", syncGroup: "G", virtualIps: ["203.0.113.10"] }],
      role: "MASTER",
      syncDaemon: [],
      rulesFile: null,
      findings: [finding("warning", 3), finding("error", 9)],
      services: [
        {
          key: { kind: "tcp", address: "203.0.113.10", port: 80 },
          owner: { kind: "runtime" },
          inKernel: true,
          drift: [],
          realservers: [],
        },
      ],
      driftCount: 2,
    };
    const s = status("lb1", 1000);
    const row = fleetDirector({ ...s, snapshot: { ...snapshot("lb1", 1000), owner } });
    expect(row.summary?.owner).toEqual({
      summary: owner.summary,
      keepalived: { version: "2.2.7" },
      vrrp: [{ name: "VI_1", state: "MASTER" }],
      role: "MASTER",
      findings: [finding("error", 9)],
      driftCount: 2,
    });
  });
});
