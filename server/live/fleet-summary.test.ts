import { describe, expect, it } from "vitest";
import { fleetDirector } from "./fleet-summary";
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
});
