/**
 * Drains never get stuck: an undrain whose weights are already back, a drain restored by
 * hand, an admin's abandon, and a failed start closed only when nothing can have happened.
 */
import { describe, expect, it } from "vitest";
import { getAuditEntry, listAudit } from "@/server/db/audit";
import { getDrain } from "@/server/db/drains";
import { ConsoleError } from "@/server/errors";
import { fakeClusterWithDb } from "@/test/support/fake-cluster-db";
import { abandonDrain, neverTookEffect, startDrain, undrain } from "./drain";
import { readDrainProgress } from "./drain-watch";
import type { DirectorResult } from "./operation";

const fake = fakeClusterWithDb("lvs-drain-finish-");
const alice = { name: "alice" };
const rs1 = { address: "10.10.0.11", port: 80 };

async function drainRs1() {
  const started = await startDrain({
    clusterId: "prod",
    realserver: rs1,
    expectedVersions: fake().versions(),
    user: alice,
  });
  expect(started.ok).toBe(true);
  return started.drainId;
}

/** Someone puts 10.10.0.11's weights back on these directors by hand. */
function restoreByHand(...directorIds: string[]) {
  for (const id of directorIds) {
    const [web, alt] = fake().director(id).services;
    const a = web?.realservers.find((r) => r.address === rs1.address);
    const b = alt?.realservers.find((r) => r.address === rs1.address);
    if (!a || !b) throw new Error("lab services changed");
    a.weight = 1;
    b.weight = 3;
  }
}

describe("finishing a drain", () => {
  it("undrains with nothing to run when every weight is already back, and says so in the audit", async () => {
    const drainId = await drainRs1();
    restoreByHand("lvs1", "lvs2");
    const commands = fake().director("lvs1").commands.length;
    const result = await undrain({ drainId, expectedVersions: fake().versions(), user: alice });
    expect(result).toMatchObject({ ok: true, result: "ok", error: null });
    expect(result.results.map((r) => r.steps.length)).toEqual([0, 0]);
    expect(fake().director("lvs1").commands).toHaveLength(commands);
    expect(getDrain(drainId)?.state).toBe("undrained");
    expect(getAuditEntry(result.auditId)).toMatchObject({ action: "drain.undrain", result: "ok" });
  });

  it("closes a drain whose weights were restored by hand as restored outside the console", async () => {
    const drainId = await drainRs1();
    restoreByHand("lvs1");
    // One director only: the drain still holds on lvs2, it stays open.
    expect((await readDrainProgress(drainId)).restored).toBe(false);
    expect(getDrain(drainId)?.state).toBe("drained");

    restoreByHand("lvs2");
    expect((await readDrainProgress(drainId)).restored).toBe(true);
    const drain = getDrain(drainId);
    expect(drain?.state).toBe("undrained");
    expect(drain?.undone).toMatchObject({ by: "outside the console", directorId: "lvs1" });
    expect(getAuditEntry(drain?.undone?.auditId ?? 0)?.summary).toMatch(
      /^drain \d+ restored outside the console: lvs1 TCP 203\.0\.113\.10:80 weight 1/,
    );
  });

  // Admin only: server/trpc/authorization.test.ts ("drains.abandon": "admin").
  it("abandons a drain with a reason, audited, without touching a director", async () => {
    const drainId = await drainRs1();
    const commands = fake().director("lvs1").commands.length;
    const admin = { name: "root-admin", remoteAddress: "127.0.0.1" };
    const abandoned = abandonDrain({ drainId, reason: "lvs2 is being rebuilt", user: admin });
    expect(abandoned).toMatchObject({
      state: "abandoned",
      abandoned: { by: "root-admin", reason: "lvs2 is being rebuilt" },
    });
    expect(fake().director("lvs1").commands).toHaveLength(commands);
    const entry = listAudit({ user: "root-admin" }).entries[0];
    expect(entry).toMatchObject({
      action: "drain.abandon",
      result: "ok",
      remoteAddress: "127.0.0.1",
    });
    expect(entry?.summary).toMatch(
      /^abandon drain \d+ of 10\.10\.0\.11:80: lvs2 is being rebuilt$/,
    );
    // Closed: a second abandon (or an undrain) is refused.
    expect(() => abandonDrain({ drainId, reason: "again", user: admin })).toThrow(
      /already abandoned/,
    );
  });
});

describe("a drain that failed to start", () => {
  it("stays open when a command timed out and the director could not be read back", async () => {
    fake().exec = (director) => {
      fake().director(director.id).unreachable = true;
      return Promise.reject(new ConsoleError("TIMEOUT", `${director.id}: no answer in 20 s`));
    };
    const started = await startDrain({
      clusterId: "prod",
      realserver: rs1,
      expectedVersions: fake().versions(),
      user: alice,
    });
    // The connection died after the locked script said "go": the commands may have run, so
    // the change is reported as possibly partly applied, and the drain is not closed.
    expect(started.result).toBe("partial");
    expect(getDrain(started.drainId)?.state).toBe("draining");
  });

  it("is closed as undone when every director definitely refused", async () => {
    for (const id of ["lvs1", "lvs2"])
      fake().director(id).failWith = () => ({
        stdout: "",
        stderr: "Memory allocation problem\n",
        exitCode: 255,
      });
    const started = await startDrain({
      clusterId: "prod",
      realserver: rs1,
      expectedVersions: fake().versions(),
      user: alice,
    });
    expect(started.result).toBe("failed");
    expect(getDrain(started.drainId)?.state).toBe("undrained");
  });

  const result = (steps: Array<number | null>, version: string | null): DirectorResult => ({
    directorId: "lvs1",
    ok: false,
    steps: steps.map((exitCode) => ({ argv: [], description: "", exitCode, stderr: "" })),
    error: null,
    verified: false,
    version,
  });
  it.each([
    ["refused (exit 255)", [255], null, true],
    ["timed out, read back unchanged", [null], "v1", true],
    ["timed out, read back changed", [null], "v2", false],
    ["timed out, no read-back", [null], null, false],
    ["one step ran, the next refused", [0, 255], "v2", false],
  ] as const)("%s", (_name, steps, version, expected) => {
    expect(neverTookEffect([result([...steps], version)], { lvs1: "v1" })).toBe(expected);
  });
});
