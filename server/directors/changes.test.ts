import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb } from "@/server/db";
import { getAuditEntry, listAudit } from "@/server/db/audit";
import { isConsoleError, type ConsoleError } from "@/server/errors";
import { changeSchema, type Change } from "@/server/ipvs/change";
import { applyChange, previewChange } from "./changes";
import { setDirectorIo } from "./io";
import { FakeCluster } from "@/test/support/fake-director";

const web = { kind: "tcp", address: "203.0.113.10", port: 80 } as const;
const rs1 = { address: "10.10.0.11", port: 80 };
const alice = { name: "alice", remoteAddress: "127.0.0.1" };

let dir: string;
let cluster: FakeCluster;
let restore: () => void;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-changes-"));
  process.env.LVS_CONSOLE_DB = path.join(dir, "console.sqlite");
});
afterAll(() => {
  closeDb();
  delete process.env.LVS_CONSOLE_DB;
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  cluster = new FakeCluster("prod", ["lvs1", "lvs2"]);
  restore = setDirectorIo(cluster);
});
afterEach(() => restore());

async function rejection(p: Promise<unknown>): Promise<ConsoleError> {
  try {
    await p;
  } catch (e) {
    if (isConsoleError(e)) return e;
    throw e;
  }
  throw new Error("expected a ConsoleError");
}

const drainOne: Change = { kind: "setWeight", service: web, realserver: rs1, weight: 0 };

describe("previewChange", () => {
  it("plans per director with the versions to send back and the drain warnings", async () => {
    const preview = await previewChange("prod", drainOne);
    expect(preview.versions).toEqual(cluster.versions());
    expect(preview.perDirector).toHaveLength(2);
    const [first] = preview.perDirector;
    expect(first).toMatchObject({ directorId: "lvs1", ok: true });
    if (!first?.ok) throw new Error("unreachable");
    // Every attribute repeated, so -e does not reset forwarding or thresholds.
    expect(first.steps[0]?.argv).toEqual([
      "ipvsadm",
      "-e",
      "-t",
      "203.0.113.10:80",
      "-r",
      "10.10.0.11:80",
      "-m",
      "-w",
      "0",
      "-x",
      "100",
      "-y",
      "50",
    ]);
    expect(first.steps[0]?.command).toContain("ipvsadm -e -t 203.0.113.10:80");
    expect(preview.warnings.map((w) => [w.directorId, w.code])).toEqual([
      ["lvs1", "persistence-keeps-clients"],
      ["lvs2", "persistence-keeps-clients"],
    ]);
    expect(cluster.director("lvs1").commands).toEqual([]);
  });
});

describe("applyChange", () => {
  it("applies on every director, verifies the read-back and audits before and after", async () => {
    const result = await applyChange({
      clusterId: "prod",
      change: drainOne,
      expectedVersions: cluster.versions(),
      user: alice,
    });
    expect(result).toMatchObject({ ok: true, result: "ok", error: null });
    expect(result.results.map((r) => [r.directorId, r.ok, r.verified])).toEqual([
      ["lvs1", true, true],
      ["lvs2", true, true],
    ]);
    expect(result.results[0]?.version).toBe(cluster.versions().lvs1);
    const member = cluster.director("lvs2").services[0]?.realservers[0];
    expect(member).toMatchObject({
      weight: 0,
      forward: "masq",
      upperThreshold: 100,
      lowerThreshold: 50,
    });

    const entry = getAuditEntry(result.auditId);
    expect(entry).toMatchObject({
      user: "alice",
      remoteAddress: "127.0.0.1",
      clusterId: "prod",
      result: "ok",
      directors: ["lvs1", "lvs2"],
    });
    expect(entry?.change).toEqual(drainOne);
    expect(entry?.argv.lvs2?.[0]).toContain("-w");
    // Only the affected service is kept, before and after.
    expect(entry?.before.lvs1?.services.map((s) => s.key)).toEqual([web]);
    expect(entry?.before.lvs1?.services[0]?.realservers[0]?.weight).toBe(1);
    expect(entry?.after?.lvs1?.services[0]?.realservers[0]?.weight).toBe(0);
  });

  it("is a CONFLICT with nothing run anywhere when an edit lands between the read and the lock", async () => {
    const seen = await previewChange("prod", drainOne);
    // The edit lands after the console's fresh read, before lvs2's commands: under its lock.
    cluster.director("lvs2").whileLocked = (d) => {
      const rs3 = d.services[1]?.realservers[2];
      if (rs3) rs3.weight = 5;
    };
    const e = await rejection(
      applyChange({
        clusterId: "prod",
        change: drainOne,
        expectedVersions: seen.versions,
        user: alice,
      }),
    );
    expect(e.code).toBe("CONFLICT");
    expect(e.message).toContain("lvs2 (TCP 203.0.113.10:8080: 10.10.0.13:80 weight 0 -> 5)");
    expect(e.details.changes).toEqual([expect.objectContaining({ directorId: "lvs2" })]);
    // lvs1 held its lock and read the planned version, but waited for lvs2: nothing ran.
    expect(cluster.director("lvs1").commands).toEqual([]);
    expect(cluster.director("lvs2").commands).toEqual([]);
    expect(getAuditEntry(Number(e.details.auditId))?.result).toBe("conflict");
  });

  it("is REFUSED (director-locked) with nothing run anywhere when another change holds a lock", async () => {
    cluster.director("lvs1").lockHeld = true;
    const e = await rejection(
      applyChange({
        clusterId: "prod",
        change: drainOne,
        expectedVersions: cluster.versions(),
        user: alice,
      }),
    );
    expect(e.code).toBe("REFUSED");
    expect(e.details.reason).toBe("director-locked");
    expect(e.message).toContain("lvs1: another change holds the director's lock");
    expect(cluster.director("lvs2").commands).toEqual([]);
    expect(getAuditEntry(Number(e.details.auditId))?.result).toBe("refused");
  });

  it("refuses the whole change with CONFLICT and what changed when a director moved on", async () => {
    const seen = await previewChange("prod", drainOne);
    // Someone edits lvs2 behind the console's back.
    const rs3 = cluster.director("lvs2").services[1]?.realservers[2];
    if (rs3) rs3.weight = 5;
    const e = await rejection(
      applyChange({
        clusterId: "prod",
        change: drainOne,
        expectedVersions: seen.versions,
        user: alice,
      }),
    );
    expect(e.code).toBe("CONFLICT");
    expect(e.details.changes).toEqual([
      expect.objectContaining({
        directorId: "lvs2",
        text: "TCP 203.0.113.10:8080: 10.10.0.13:80 weight 0 -> 5",
      }),
    ]);
    expect(cluster.director("lvs1").commands).toEqual([]);
    expect(getAuditEntry(Number(e.details.auditId))?.result).toBe("conflict");
  });

  it("reports PARTIAL, with the exit code, stderr and kernel error, when one director fails", async () => {
    cluster.director("lvs2").failWith = () => ({
      stdout: "",
      stderr: "No such destination\n",
      exitCode: 255,
    });
    const result = await applyChange({
      clusterId: "prod",
      change: drainOne,
      expectedVersions: cluster.versions(),
      user: alice,
    });
    expect(result.ok).toBe(false);
    expect(result.result).toBe("partial");
    expect(result.error?.code).toBe("PARTIAL");
    expect(result.error?.message).toMatch(/done on lvs1; failed on lvs2/);
    const lvs2 = result.results.find((r) => r.directorId === "lvs2");
    expect(lvs2?.steps[0]).toMatchObject({ exitCode: 255, stderr: "No such destination\n" });
    expect(lvs2?.error).toMatchObject({
      code: "COMMAND_FAILED",
      details: { exitCode: 255, ipvs: { kind: "no-such-destination" } },
    });
    expect(getAuditEntry(result.auditId)).toMatchObject({
      result: "partial",
      error: { code: "PARTIAL" },
    });
  });

  it("is failed, not partial, when the only director with something to do fails", async () => {
    const member = cluster.director("lvs2").services[0]?.realservers[0];
    if (member) member.weight = 0;
    cluster.director("lvs1").failWith = () => ({
      stdout: "",
      stderr: "No such destination\n",
      exitCode: 255,
    });
    const preview = await previewChange("prod", drainOne);
    expect(preview.perDirector.map((p) => (p.ok ? "ok" : p.reason))).toEqual([
      "ok",
      "would-change-nothing",
    ]);
    const result = await applyChange({
      clusterId: "prod",
      change: drainOne,
      expectedVersions: preview.versions,
      user: alice,
    });
    expect(result).toMatchObject({
      ok: false,
      result: "failed",
      error: { code: "COMMAND_FAILED" },
    });
    expect(cluster.director("lvs2").commands).toEqual([]);
  });

  it("says VERIFY_FAILED, naming director and command, when the read-back is not what was meant", async () => {
    // Like `ipvsadm -e` without -m on the real kernel: the member silently becomes Route.
    cluster.director("lvs1").afterExec = (_argv, d) => {
      const m = d.services[0]?.realservers[0];
      if (m) m.forward = "route";
    };
    const result = await applyChange({
      clusterId: "prod",
      change: drainOne,
      expectedVersions: cluster.versions(),
      user: alice,
    });
    expect(result.result).toBe("partial");
    const lvs1 = result.results.find((r) => r.directorId === "lvs1");
    expect(lvs1).toMatchObject({ ok: false, verified: false });
    expect(lvs1?.error?.code).toBe("VERIFY_FAILED");
    expect(lvs1?.error?.details).toMatchObject({
      director: "lvs1",
      command: expect.arrayContaining(["-e", "10.10.0.11:80"]) as unknown,
    });
    expect(lvs1?.error?.message).toMatch(/forwarding masq -> route/);
  });

  it("refuses what the planner refuses, runs nothing, and audits the refusal", async () => {
    const change: Change = {
      kind: "removeRealserver",
      service: { ...web, port: 81 },
      realserver: { address: "10.10.0.11", port: 80 },
    };
    const e = await rejection(
      applyChange({ clusterId: "prod", change, expectedVersions: cluster.versions(), user: alice }),
    );
    expect(e.code).toBe("REFUSED");
    expect(e.details.reason).toBe("no-such-service");
    expect(cluster.director("lvs1").commands).toEqual([]);
    expect(getAuditEntry(Number(e.details.auditId))?.result).toBe("refused");
  });

  it("fails without running anything when a director cannot be read, and says which", async () => {
    cluster.director("lvs2").unreachable = true;
    const e = await rejection(
      applyChange({
        clusterId: "prod",
        change: drainOne,
        expectedVersions: cluster.versions(),
        user: alice,
      }),
    );
    expect(e.code).toBe("UNREACHABLE");
    expect(e.details.directorId).toBe("lvs2");
    expect(cluster.director("lvs1").commands).toEqual([]);
    expect(getAuditEntry(Number(e.details.auditId))?.result).toBe("failed");
  });

  it("serializes applies on one cluster: the second sees the first's result as a conflict", async () => {
    const versions = cluster.versions();
    const other: Change = {
      kind: "setWeight",
      service: web,
      realserver: { address: "10.10.0.12", port: 80 },
      weight: 3,
    };
    const [a, b] = await Promise.allSettled([
      applyChange({ clusterId: "prod", change: drainOne, expectedVersions: versions, user: alice }),
      applyChange({
        clusterId: "prod",
        change: other,
        expectedVersions: versions,
        user: { name: "bob" },
      }),
    ]);
    expect(a.status).toBe("fulfilled");
    expect(b.status).toBe("rejected");
    if (b.status === "rejected") expect((b.reason as ConsoleError).code).toBe("CONFLICT");
    // No interleaving: lvs1 ran exactly one command.
    expect(cluster.director("lvs1").commands).toHaveLength(1);
    expect(listAudit({ user: "bob" }).entries[0]?.result).toBe("conflict");
  });
});

const rs4 = { address: "10.10.0.14", port: 80, forward: "masq", weight: 2 } as const;
// Parsed as the router parses it (thresholds and tunnel default), so the read-back matches.
const addRs4: Change = changeSchema.parse({ kind: "addRealserver", service: web, realserver: rs4 });
const removeRs4: Change = {
  kind: "removeRealserver",
  service: web,
  realserver: { address: rs4.address, port: rs4.port },
};

describe("finishing a PARTIAL change by retrying it", () => {
  async function commit(change: Change) {
    return applyChange({
      clusterId: "prod",
      change,
      expectedVersions: cluster.versions(),
      user: alice,
    });
  }

  it.each([
    ["an added realserver", addRs4, "-a", "is already a realserver"],
    ["a removed realserver", removeRs4, "-d", "is not a realserver"],
  ])(
    "%s: the director that already holds it has nothing to do, the other catches up",
    async (_name, change, flag, already) => {
      if (change.kind === "removeRealserver") expect((await commit(addRs4)).ok).toBe(true);
      cluster.director("lvs2").failWith = (argv) =>
        argv.includes(flag)
          ? { stdout: "", stderr: "Memory allocation problem\n", exitCode: 255 }
          : null;
      expect((await commit(change)).result).toBe("partial");

      cluster.director("lvs2").failWith = undefined;
      const preview = await previewChange("prod", change);
      expect(preview.perDirector[0]).toMatchObject({
        ok: false,
        reason: "would-change-nothing",
        message: expect.stringMatching(
          new RegExp(`^already as asked: 10.10.0.14:80 ${already}`),
        ) as unknown,
      });
      expect(preview.perDirector[1]).toMatchObject({ ok: true });
      const before = cluster.director("lvs1").commands.length;
      const retry = await commit(change);
      expect(retry).toMatchObject({ ok: true, result: "ok" });
      expect(cluster.director("lvs1").commands).toHaveLength(before);
      expect(cluster.versions().lvs1).toBe(cluster.versions().lvs2);
    },
  );

  it("still refuses a member that is there with other settings, and a change with nothing to do anywhere", async () => {
    const other = cluster.director("lvs1").services[0];
    other?.realservers.push({
      ...structuredClone(other.realservers[1]!),
      address: rs4.address,
      weight: 5,
    });
    const e = await rejection(commit(addRs4));
    expect(e).toMatchObject({
      code: "REFUSED",
      details: { reason: "already-a-member", directorId: "lvs1" },
    });
    const nowhere = await rejection(
      commit({ ...removeRs4, realserver: { address: "10.10.0.99", port: 80 } }),
    );
    expect(nowhere).toMatchObject({ code: "REFUSED", details: { reason: "would-change-nothing" } });
    expect(cluster.director("lvs2").commands).toEqual([]);
  });
});
