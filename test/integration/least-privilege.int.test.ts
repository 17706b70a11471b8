/**
 * The console as the lab's least-privileged login "lvsconsole" (docs/sudo.md: sudo limited
 * to ipvsadm, ipvsadm-save -n, the settable sysctls and the firewall reads): a full read of
 * the rules, the connection table, the doctor's read, a weight change and a drain with its
 * undrain all work, and sudo's own log shows it ran only those programs, never a shell.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import { readSnapshot } from "@/server/live/snapshot";
import { labDirector, labName } from "./lab-director";
import {
  onLab,
  operatorCaller,
  restoreRules,
  setUpConsole,
  tearDownConsole,
} from "./console-harness";

let director: DirectorConfig;
const caller = operatorCaller();
const LOG = "/var/log/sudo-lvsconsole.log";
const ALLOWED = [
  /^\/usr\/sbin\/ipvsadm( |$)/,
  /^\/usr\/sbin\/ipvsadm-save -n$/,
  /^\/usr\/sbin\/sysctl -w net\.ipv4\.vs\.[a-z_]+=\d$/,
  /^\/usr\/sbin\/(iptables-save|ip6tables-save) -t nat$/,
  /^\/usr\/sbin\/nft list ruleset$/,
];

beforeAll(async () => {
  director = await labDirector({ id: "lab-least", user: "lvsconsole", sudo: true });
  setUpConsole([{ id: "lab", directors: [director] }]);
  await onLab(labName(), `: > ${LOG}`);
});

afterAll(async () => {
  try {
    await restoreRules(labName());
  } finally {
    tearDownConsole();
  }
});

describe("the least-privileged login", () => {
  it("reads, changes and drains with only the documented sudo rights, and never a shell", async () => {
    const snapshot = await readSnapshot(director);
    expect(snapshot.services.length).toBeGreaterThan(0);
    expect(snapshot.sysctls.expire_nodest_conn).toBeDefined();
    const page = await caller.connections.list({
      directorId: director.id,
      filter: {},
      offset: 0,
      limit: 10,
    });
    expect(page.entries).toBeDefined();
    const doctor = await caller.doctor.check({ directorId: director.id });
    expect(doctor).toBeDefined();

    const change = {
      kind: "setWeight",
      service: { kind: "tcp", address: "203.0.113.10", port: 8080 },
      realserver: { address: "10.10.0.12", port: 80 },
      weight: 7,
    } as const;
    const preview = await caller.changes.preview({ clusterId: "lab", change });
    const changed = await caller.changes.commit({
      clusterId: "lab",
      change,
      expectedVersions: preview.versions,
    });
    expect(changed).toMatchObject({ ok: true, result: "ok" });
    expect(await onLab(labName(), "ipvsadm -Sn")).toContain(
      "-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 7\n",
    );

    const rs = { address: "10.10.0.13", port: 80 };
    const drainPreview = await caller.drains.preview({ clusterId: "lab", realserver: rs });
    const started = await caller.drains.start({
      clusterId: "lab",
      realserver: rs,
      expectedVersions: drainPreview.versions,
    });
    expect(started).toMatchObject({ ok: true, result: "ok" });
    expect(await onLab(labName(), "ipvsadm -Sn")).toContain(
      "-a -t 203.0.113.10:80 -r 10.10.0.13:80 -m -w 0\n",
    );

    const log = await onLab(labName(), `cat ${LOG}`);
    const commands = [...log.matchAll(/COMMAND=(.*)$/gm)].map((m) => m[1]?.trim() ?? "");
    console.info(`sudo ran ${commands.length} commands as lvsconsole`);
    expect(commands.length).toBeGreaterThan(5);
    expect(commands.filter((c) => !ALLOWED.some((a) => a.test(c)))).toEqual([]);
    expect(commands.some((c) => /\b(sh|bash|env)\b/.test(c.split(" ")[0] ?? ""))).toBe(false);
    expect(log).not.toMatch(/command not allowed|password is required/);
  });
});
