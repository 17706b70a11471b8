/**
 * One change on a cluster of two real directors (labs "h5a" and "h5b" on 127.0.0.1:2240
 * and :2241, started here unless already running): applied and verified on both, refused on
 * both when one of them moved on, reported as PARTIAL when one kernel refuses it, finished
 * by retrying it (and its inverse likewise), and a drain plus its explicit removal across the pair.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { ChangeInput } from "@/server/ipvs/change";
import { ensureLab, stopLab } from "../../lab/harness";
import { directorConfigOf } from "./lab-director";
import {
  consoleErrorOf,
  onLab,
  operatorCaller,
  restoreRules,
  setUpConsole,
  tearDownConsole,
} from "./console-harness";

const LABS = [
  { name: process.env.LVS_H5_LAB_A ?? "h5a", port: Number(process.env.LVS_H5_PORT_A ?? 2240) },
  { name: process.env.LVS_H5_LAB_B ?? "h5b", port: Number(process.env.LVS_H5_PORT_B ?? 2241) },
] as const;
const [A, B] = LABS;

const started: string[] = [];
let directors: DirectorConfig[] = [];
const caller = operatorCaller();
const alt = { kind: "tcp", address: "203.0.113.10", port: 8080 } as const;

beforeAll(async () => {
  const labs = await Promise.all(LABS.map((l) => ensureLab(l)));
  labs.forEach((l, i) => {
    if (l.startedByUs) started.push(LABS[i]?.name ?? "");
  });
  directors = labs.map((l, i) =>
    directorConfigOf(l.director, { id: `lvs-${i + 1}`, clusterId: "pair" }),
  );
  setUpConsole([{ id: "pair", directors }]);
});

afterAll(async () => {
  try {
    await Promise.all(
      LABS.map((l) =>
        onLab(l.name, "lab-traffic stop >/dev/null").then(() => restoreRules(l.name)),
      ),
    );
  } finally {
    tearDownConsole();
    await Promise.all(started.map((name) => stopLab(name)));
  }
});

const savedOn = (lab: string) => onLab(lab, "ipvsadm -Sn");

async function preview(change: ChangeInput) {
  return caller.changes.preview({ clusterId: "pair", change });
}

describe("a two-director cluster", () => {
  it("applies the same change on both directors and verifies each", async () => {
    const change: ChangeInput = {
      kind: "setWeight",
      service: alt,
      realserver: { address: "10.10.0.13", port: 80 },
      weight: 6,
    };
    const p = await preview(change);
    expect(Object.keys(p.versions).sort()).toEqual(["lvs-1", "lvs-2"]);
    expect(p.perDirector.map((d) => d.ok)).toEqual([true, true]);

    const result = await caller.changes.commit({
      clusterId: "pair",
      change,
      expectedVersions: p.versions,
    });
    expect(result).toMatchObject({ ok: true, result: "ok" });
    expect(result.results.map((r) => [r.directorId, r.ok, r.verified])).toEqual([
      ["lvs-1", true, true],
      ["lvs-2", true, true],
    ]);
    for (const lab of [A, B])
      expect(await savedOn(lab.name)).toContain(
        "-a -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 6\n",
      );
    const audit = (await caller.audit.list({ clusterId: "pair", limit: 1 })).entries[0];
    expect(audit?.directors).toEqual(["lvs-1", "lvs-2"]);
    expect(Object.keys(audit?.argv ?? {}).sort()).toEqual(["lvs-1", "lvs-2"]);

    const back = await caller.changes.commit({
      clusterId: "pair",
      change: { ...change, weight: 0 },
      expectedVersions: Object.fromEntries(
        result.results.map((r) => [r.directorId, r.version ?? ""]),
      ),
    });
    expect(back.ok).toBe(true);
  });

  it("refuses the change on both when one director changed behind the console's back", async () => {
    const change: ChangeInput = {
      kind: "setWeight",
      service: alt,
      realserver: { address: "10.10.0.12", port: 80 },
      weight: 9,
    };
    const p = await preview(change);
    await onLab(B.name, "ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.11:80 -m -w 8");
    try {
      const e = await consoleErrorOf(
        caller.changes.commit({ clusterId: "pair", change, expectedVersions: p.versions }),
      );
      expect(e.code).toBe("CONFLICT");
      expect(e.details.changes).toEqual([
        expect.objectContaining({
          directorId: "lvs-2",
          text: "TCP 203.0.113.10:8080: 10.10.0.11:80 weight 3 -> 8",
        }),
      ]);
      // Not applied on the director that did not change either.
      expect(await savedOn(A.name)).toContain("-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 2\n");
    } finally {
      await onLab(B.name, "ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.11:80 -m -w 3");
    }
  });

  it("reports PARTIAL when one director's kernel refuses what the other accepted", async () => {
    // lvs-2 loses its lblcr scheduler: the module unloaded, and the modules unmounted so the kernel cannot load it again.
    await onLab(B.name, "rmmod ip_vs_lblcr && umount /lib/modules");
    try {
      const change: ChangeInput = {
        kind: "addService",
        service: { key: { kind: "tcp", address: "203.0.113.60", port: 80 }, scheduler: "lblcr" },
        realservers: [{ address: "10.10.0.11", port: 80, forward: "masq", weight: 1 }],
      };
      const p = await preview(change);
      const result = await caller.changes.commit({
        clusterId: "pair",
        change,
        expectedVersions: p.versions,
      });
      expect(result).toMatchObject({ ok: false, result: "partial", error: { code: "PARTIAL" } });
      expect(result.error?.message).toMatch(/done on lvs-1; failed on lvs-2/);
      const [one, two] = result.results;
      expect(one).toMatchObject({ ok: true, verified: true });
      expect(two).toMatchObject({
        ok: false,
        error: {
          code: "COMMAND_FAILED",
          details: { exitCode: 255, ipvs: { kind: "scheduler-not-found" } },
        },
      });
      expect(two?.steps).toHaveLength(1);
      expect(
        (await caller.audit.list({ clusterId: "pair", result: "partial", limit: 1 })).entries[0]
          ?.id,
      ).toBe(result.auditId);
      expect(await savedOn(A.name)).toContain("-A -t 203.0.113.60:80 -s lblcr\n");
      expect(await savedOn(B.name)).not.toContain("203.0.113.60");
    } finally {
      await onLab(
        B.name,
        // the modules of the kernel the lab booted (lab.modules= on its command line)
        "mount -t hostfs -o \"$(sed -n 's/.*lab\\.modules=\\([^ ]*\\).*/\\1/p' /proc/cmdline)\" none /lib/modules && modprobe ip_vs_lblcr",
      );
      await onLab(A.name, "ipvsadm -D -t 203.0.113.60:80");
    }
  });

  it("finishes a PARTIAL add by retrying it once the refusing director is fixed, and its inverse too", async () => {
    const rs4 = { address: "10.10.0.14", port: 80 };
    const add: ChangeInput = {
      kind: "addRealserver",
      service: alt,
      realserver: { ...rs4, forward: "masq", weight: 4 },
    };
    const remove: ChangeInput = { kind: "removeRealserver", service: alt, realserver: rs4 };
    const member = "-a -t 203.0.113.10:8080 -r 10.10.0.14:80 -m -w 4\n";
    const commit = async (change: ChangeInput) =>
      caller.changes.commit({
        clusterId: "pair",
        change,
        expectedVersions: (await preview(change)).versions,
      });
    // lvs-2's ipvsadm refuses one kind of command (-a or -d) the way the kernel refuses, exit 255.
    const breakIpvsadm = (flag: string) =>
      onLab(
        B.name,
        `cp /usr/sbin/ipvsadm /run/ipvsadm.real && printf '%s\\n' '#!/bin/sh' 'case " $* " in *" ${flag} "*) echo "Memory allocation problem" >&2; exit 255;; esac' 'exec /run/ipvsadm.real "$@"' >/run/ipvsadm.refusing && chmod +x /run/ipvsadm.refusing && mount --bind /run/ipvsadm.refusing /usr/sbin/ipvsadm`,
      );
    const fixIpvsadm = () => onLab(B.name, "umount /usr/sbin/ipvsadm");

    for (const [change, flag] of [
      [add, "-a"],
      [remove, "-d"],
    ] as const) {
      await breakIpvsadm(flag);
      try {
        const partial = await commit(change);
        expect(partial).toMatchObject({ result: "partial", error: { code: "PARTIAL" } });
        expect(partial.results[1]?.error).toMatchObject({
          code: "COMMAND_FAILED",
          details: { exitCode: 255 },
        });
      } finally {
        await fixIpvsadm();
      }
      const again = await preview(change);
      expect(again.perDirector[0]).toMatchObject({
        ok: false,
        reason: "would-change-nothing",
        message: expect.stringMatching(/^already as asked: 10\.10\.0\.14:80 is/) as unknown,
      });
      expect(again.perDirector[1]).toMatchObject({ ok: true });
      const retried = await caller.changes.commit({
        clusterId: "pair",
        change,
        expectedVersions: again.versions,
      });
      expect(retried).toMatchObject({ ok: true, result: "ok" });
      expect(retried.results.map((r) => [r.directorId, r.steps.length, r.verified])).toEqual([
        ["lvs-1", 0, true],
        ["lvs-2", 1, true],
      ]);
      for (const lab of [A, B]) {
        const saved = await savedOn(lab.name);
        if (change === add) expect(saved).toContain(member);
        else expect(saved).not.toContain("10.10.0.14:80");
      }
    }
  });

  it("drains a realserver on both directors and removes it only when told to", async () => {
    // Connections held through rs3, so the drain is not over when the removal is asked for.
    await Promise.all(
      LABS.map((l) =>
        onLab(l.name, "lab-traffic hold --vip 203.0.113.10:80 --count 10 --seconds 60 >/dev/null"),
      ),
    );
    const realserver = { address: "10.10.0.13", port: 80 };
    const p = await caller.drains.preview({ clusterId: "pair", realserver });
    const drain = await caller.drains.start({
      clusterId: "pair",
      realserver,
      expectedVersions: p.versions,
    });
    expect(drain).toMatchObject({ ok: true, result: "ok" });
    // rs3 has weight 0 already in :8080: only :80 changes, on both.
    expect(drain.results.map((r) => r.steps.length)).toEqual([1, 1]);
    for (const lab of [A, B])
      expect(await savedOn(lab.name)).toContain("-a -t 203.0.113.10:80 -r 10.10.0.13:80 -m -w 0\n");
    const [listed] = await caller.drains.list({ clusterId: "pair", active: true });
    expect(listed).toMatchObject({
      id: drain.drainId,
      state: "draining",
      realserver: { address: "10.10.0.13", port: 80 },
    });
    expect(listed?.original.map((o) => [o.directorId, o.weight])).toEqual([
      ["lvs-1", 1],
      ["lvs-1", 0],
      ["lvs-2", 1],
      ["lvs-2", 0],
    ]);

    const versions = Object.fromEntries(drain.results.map((r) => [r.directorId, r.version ?? ""]));
    const early = await consoleErrorOf(
      caller.drains.remove({ drainId: drain.drainId, expectedVersions: versions }),
    );
    expect(early).toMatchObject({ code: "REFUSED", details: { reason: "not-drained" } });

    const removed = await caller.drains.remove({
      drainId: drain.drainId,
      expectedVersions: versions,
      force: true,
    });
    expect(removed).toMatchObject({ ok: true, result: "ok" });
    for (const lab of [A, B]) expect(await savedOn(lab.name)).not.toContain("10.10.0.13:80");
    expect((await caller.drains.get({ drainId: drain.drainId })).state).toBe("removed");
  });
});
