import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { closeDb } from "@/server/db";
import { getAuditEntry } from "@/server/db/audit";
import { getDrain, listDrains } from "@/server/db/drains";
import { isConsoleError, type ConsoleError } from "@/server/errors";
import { DEFAULT_RETRY, PollerRegistry, type SnapshotReader } from "@/server/live/poller";
import type { DirectorSnapshot } from "@/server/live/types";
import { setDirectorIo } from "./io";
import { FakeCluster } from "@/test/support/fake-director";
import { previewDrain, removeDrained, startDrain, undrain } from "./drain";
import type { DrainProgress } from "./drain-progress";
import { readDrainProgress, watchDrainProgress } from "./drain-watch";

const alice = { name: "alice" };
let dir: string;
let cluster: FakeCluster;
let restore: () => void;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-drain-"));
  process.env.LVS_CONSOLE_DB = path.join(dir, "console.sqlite");
});
afterAll(() => {
  closeDb();
  delete process.env.LVS_CONSOLE_DB;
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // A fresh database per test: drains of 10.10.0.11 must not see each other.
  closeDb();
  process.env.LVS_CONSOLE_DB = path.join(
    dir,
    `console-${Math.random().toString(36).slice(2)}.sqlite`,
  );
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

function weights(directorId: string): number[] {
  return cluster
    .director(directorId)
    .services.flatMap((s) =>
      s.realservers.filter((r) => r.address === "10.10.0.11").map((r) => r.weight),
    );
}

describe("drains", () => {
  it("previews the weight-0 steps on every director, with the persistence warning", async () => {
    const preview = await previewDrain("prod", { address: "10.10.0.11", port: 80 });
    expect(preview.perDirector.map((p) => (p.ok ? p.steps.length : p.reason))).toEqual([2, 2]);
    expect(preview.warnings.map((w) => w.code)).toEqual([
      "persistence-keeps-clients",
      "persistence-keeps-clients",
    ]);
  });

  it("records the original weights before the first command, then sets 0 everywhere", async () => {
    let recordedAtFirstCommand: number | undefined;
    cluster.director("lvs1").failWith = () => {
      recordedAtFirstCommand ??= listDrains({ active: true })[0]?.original.length;
      return null;
    };
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      expectedVersions: cluster.versions(),
      setExpireQuiescentTemplate: true,
      user: alice,
    });
    expect(started.ok).toBe(true);
    expect(recordedAtFirstCommand).toBe(4);
    // The sysctl first, then the weights; thresholds kept.
    expect(cluster.director("lvs1").commands[0]).toEqual([
      "sysctl",
      "-w",
      "net.ipv4.vs.expire_quiescent_template=1",
    ]);
    expect(cluster.director("lvs2").sysctls.expire_quiescent_template).toEqual([1]);
    expect(weights("lvs1")).toEqual([0, 0]);
    expect(cluster.director("lvs1").services[0]?.realservers[0]).toMatchObject({
      forward: "masq",
      upperThreshold: 100,
      lowerThreshold: 50,
    });

    const drain = getDrain(started.drainId);
    expect(drain?.state).toBe("draining");
    expect(drain?.original).toEqual([
      {
        directorId: "lvs1",
        service: { kind: "tcp", address: "203.0.113.10", port: 80 },
        port: 80,
        weight: 1,
      },
      {
        directorId: "lvs1",
        service: { kind: "tcp", address: "203.0.113.10", port: 8080 },
        port: 80,
        weight: 3,
      },
      {
        directorId: "lvs2",
        service: { kind: "tcp", address: "203.0.113.10", port: 80 },
        port: 80,
        weight: 1,
      },
      {
        directorId: "lvs2",
        service: { kind: "tcp", address: "203.0.113.10", port: 8080 },
        port: 80,
        weight: 3,
      },
    ]);
    expect(getAuditEntry(started.auditId)).toMatchObject({ action: "drain.start", result: "ok" });

    const again = await rejection(
      startDrain({
        clusterId: "prod",
        realserver: { address: "10.10.0.11" },
        expectedVersions: cluster.versions(),
        user: alice,
      }),
    );
    expect(again.details.reason).toBe("already-draining");
  });

  it("undrains to the recorded weights, not to 1", async () => {
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      expectedVersions: cluster.versions(),
      user: alice,
    });
    const result = await undrain({
      drainId: started.drainId,
      expectedVersions: cluster.versions(),
      user: alice,
    });
    expect(result.ok).toBe(true);
    expect(weights("lvs1")).toEqual([1, 3]);
    expect(weights("lvs2")).toEqual([1, 3]);
    expect(cluster.director("lvs2").services[0]?.realservers[0]).toMatchObject({
      forward: "masq",
      upperThreshold: 100,
      lowerThreshold: 50,
    });
    expect(getDrain(started.drainId)?.state).toBe("undrained");
    const twice = await rejection(
      undrain({ drainId: started.drainId, expectedVersions: cluster.versions(), user: alice }),
    );
    expect(twice.code).toBe("REFUSED");
  });

  it("undrains what is left when a drained service was deleted meanwhile", async () => {
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      expectedVersions: cluster.versions(),
      user: alice,
    });
    // TCP 203.0.113.10:8080 is deleted on lvs1 while 10.10.0.11 drains.
    cluster.director("lvs1").services.splice(1, 1);
    const result = await undrain({
      drainId: started.drainId,
      expectedVersions: cluster.versions(),
      user: alice,
    });
    expect(result.ok).toBe(true);
    expect(weights("lvs1")).toEqual([1]);
    expect(weights("lvs2")).toEqual([1, 3]);
    expect(getDrain(started.drainId)?.state).toBe("undrained");
  });

  it("follows the connections to drained, and removes only then (unless forced)", async () => {
    const rs1 = cluster.director("lvs1").services[0]?.realservers[0];
    if (rs1) Object.assign(rs1, { activeConns: 3, inactiveConns: 10, persistentConns: 3 });
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      expectedVersions: cluster.versions(),
      user: alice,
    });
    const progress = await readDrainProgress(started.drainId);
    expect(progress.totals).toEqual({ active: 3, inactive: 10, persistent: 3 });
    expect(progress.drained).toBe(false);
    expect(progress.perDirector[0]?.services[0]).toMatchObject({
      weight: 0,
      activeConns: 3,
      persistentConns: 3,
    });

    const early = await rejection(
      removeDrained({
        drainId: started.drainId,
        expectedVersions: cluster.versions(),
        user: alice,
      }),
    );
    expect(early).toMatchObject({ code: "REFUSED", details: { reason: "not-drained" } });
    expect(getAuditEntry(Number(early.details.auditId))?.result).toBe("refused");
    expect(weights("lvs1")).toEqual([0, 0]);

    // The fake's `ipvsadm -e` replaced the member object: look it up again.
    const drained = cluster.director("lvs1").services[0]?.realservers[0];
    if (drained) Object.assign(drained, { activeConns: 0, inactiveConns: 0, persistentConns: 0 });
    expect((await readDrainProgress(started.drainId)).drained).toBe(true);
    expect(getDrain(started.drainId)?.state).toBe("drained");

    const removed = await removeDrained({
      drainId: started.drainId,
      expectedVersions: cluster.versions(),
      user: alice,
    });
    expect(removed.ok).toBe(true);
    expect(weights("lvs1")).toEqual([]);
    expect(weights("lvs2")).toEqual([]);
    expect(getDrain(started.drainId)?.state).toBe("removed");
  });

  it("refuses to remove a member whose weight was put back behind the drain's back", async () => {
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      expectedVersions: cluster.versions(),
      user: alice,
    });
    for (const id of ["lvs1", "lvs2"]) {
      for (const service of cluster.director(id).services) {
        for (const r of service.realservers)
          Object.assign(r, { activeConns: 0, inactiveConns: 0, persistentConns: 0 });
      }
    }
    // Someone set a weight again behind the drain's back: that member serves.
    const member = cluster.director("lvs2").services[0]?.realservers[0];
    if (member) member.weight = 5;
    const refused = await rejection(
      removeDrained({
        drainId: started.drainId,
        expectedVersions: cluster.versions(),
        user: alice,
      }),
    );
    expect(refused).toMatchObject({
      code: "REFUSED",
      details: { reason: "not-drained", directorId: "lvs2" },
    });
    expect(refused.message).toMatch(/has weight 5 again/);
    expect(weights("lvs2")).toEqual([5, 0]);
  });

  it("removes a realserver that still has connections when forced", async () => {
    const rs1 = cluster.director("lvs2").services[0]?.realservers[0];
    if (rs1) rs1.activeConns = 2;
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11" },
      expectedVersions: cluster.versions(),
      user: alice,
    });
    const removed = await removeDrained({
      drainId: started.drainId,
      expectedVersions: cluster.versions(),
      user: alice,
      force: true,
    });
    expect(removed.ok).toBe(true);
    expect(weights("lvs2")).toEqual([]);
  });

  it("streams progress from the live polls until drained, and stops when aborted", async () => {
    const member = () => cluster.director("lvs2").services[0]?.realservers[0];
    const started = await startDrain({
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      expectedVersions: cluster.versions(),
      user: alice,
    });
    const m = member();
    if (m) Object.assign(m, { activeConns: 1, inactiveConns: 2, persistentConns: 1 });
    const abort = new AbortController();
    const seen: Array<{ total: number; drained: boolean }> = [];
    for await (const p of watchDrainProgress(started.drainId, abort.signal)) {
      seen.push({
        total: p.totals.active + p.totals.inactive + p.totals.persistent,
        drained: p.drained,
      });
      // The connections end once both directors have been seen with them.
      if (seen.at(-1)?.total === 4) {
        const now = member();
        if (now) Object.assign(now, { activeConns: 0, inactiveConns: 0, persistentConns: 0 });
      }
      if (p.drained) abort.abort();
    }
    expect(seen).toContainEqual({ total: 4, drained: false });
    // Never "drained" before every director has answered.
    expect(seen.filter((p) => p.drained)).toHaveLength(1);
    expect(seen.at(-1)).toEqual({ total: 0, drained: true });
    expect(getDrain(started.drainId)?.state).toBe("drained");
  });
});

/**
 * Live pollers over the fake cluster with fake timers, as the drain watcher's source: the
 * poller's fake reader (as in server/live/poller.test.ts), 100 ms per read, counted, failing
 * while the director is unreachable.
 */
function sharedPollers(): { reads: Map<string, number>; registry: PollerRegistry } {
  vi.useFakeTimers({ now: 1_000_000 });
  const reads = new Map<string, number>();
  const read: SnapshotReader = (director, { signal }) =>
    new Promise<DirectorSnapshot>((resolve, reject) => {
      reads.set(director.id, (reads.get(director.id) ?? 0) + 1);
      const timer = setTimeout(() => {
        cluster.readSnapshot(director).then(resolve, reject);
      }, 100);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });
  const registry = new PollerRegistry(() => ({ intervalMs: 2000, retry: DEFAULT_RETRY, read }));
  restore();
  restore = setDirectorIo({
    getCluster: (id) => cluster.getCluster(id),
    readSnapshot: (director) => cluster.readSnapshot(director),
    exec: (director, argv) => cluster.exec(director, argv),
    applyLocked: (director, steps, gate) => cluster.applyLocked(director, steps, gate),
    watch: (director, listener) => registry.follow(director, listener),
  });
  return { reads, registry };
}

/** A drain of 10.10.0.11:80 whose member on lvs2 still has `active` connections. */
async function drainWithActive(active: number) {
  const started = await startDrain({
    clusterId: "prod",
    realserver: { address: "10.10.0.11", port: 80 },
    expectedVersions: cluster.versions(),
    user: alice,
  });
  const busy = cluster.director("lvs2").services[0]?.realservers[0];
  if (busy) Object.assign(busy, { activeConns: active });
  return { started, busy };
}

describe("drain progress on the shared live pollers", () => {
  afterEach(() => vi.useRealTimers());

  it("costs one read per director and poll however many watch it, and a late watcher gets a value at once", async () => {
    const { started, busy } = await drainWithActive(2);
    const { reads, registry } = sharedPollers();
    const abort = new AbortController();
    const watch = (into: DrainProgress[]) =>
      (async () => {
        for await (const p of watchDrainProgress(started.drainId, abort.signal)) into.push(p);
      })();
    const seen = Array.from({ length: 5 }, () => [] as DrainProgress[]);
    const loops = seen.map(watch);
    await vi.advanceTimersByTimeAsync(10_050); // polls at 0, 2, 4, 6, 8 and 10 s
    expect(Object.fromEntries(reads)).toEqual({ lvs1: 6, lvs2: 6 });
    expect(seen.every((list) => list.length === seen[0]?.length)).toBe(true);
    expect(seen[0]?.at(-1)?.totals).toEqual({ active: 2, inactive: 0, persistent: 0 });

    const late: DrainProgress[] = [];
    loops.push(watch(late));
    await vi.advanceTimersByTimeAsync(0);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ totals: { active: 2 }, drained: false });

    if (busy) busy.activeConns = 0;
    await vi.advanceTimersByTimeAsync(2000);
    expect(Object.fromEntries(reads)).toEqual({ lvs1: 7, lvs2: 7 });
    expect([...seen, late].every((list) => list.at(-1)?.drained === true)).toBe(true);
    expect(getDrain(started.drainId)?.state).toBe("drained");

    abort.abort();
    await Promise.all(loops);
    expect(registry.find("lvs1")?.running).toBe(false);
    expect(registry.find("lvs2")?.running).toBe(false);
  });

  it("never counts an unreachable or stale director's old snapshot as drained: it waits for that director", async () => {
    const { started, busy } = await drainWithActive(3);
    const { registry } = sharedPollers();
    const abort = new AbortController();
    const seen: DrainProgress[] = [];
    const loop = (async () => {
      for await (const p of watchDrainProgress(started.drainId, abort.signal)) seen.push(p);
    })();
    await vi.advanceTimersByTimeAsync(150);
    expect(seen.at(-1)).toMatchObject({ totals: { active: 3 }, waitingFor: [], drained: false });

    // lvs1 (no connections in its last snapshot) stops answering, then lvs2 empties.
    cluster.director("lvs1").unreachable = true;
    await vi.advanceTimersByTimeAsync(2000);
    if (busy) busy.activeConns = 0;
    await vi.advanceTimersByTimeAsync(2000);
    const waiting = seen.at(-1);
    expect(waiting).toMatchObject({
      totals: { active: 0, inactive: 0, persistent: 0 },
      waitingFor: ["lvs1"],
      drained: false,
    });
    expect(waiting?.perDirector.map((d) => [d.directorId, d.reachability])).toEqual([
      ["lvs1", "unreachable"],
      ["lvs2", "live"],
    ]);
    expect(seen.some((p) => p.drained)).toBe(false);
    expect(getDrain(started.drainId)?.state).toBe("draining");

    // Back: its current word completes the drain.
    cluster.director("lvs1").unreachable = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(seen.at(-1)).toMatchObject({ waitingFor: [], drained: true });
    expect(getDrain(started.drainId)?.state).toBe("drained");
    abort.abort();
    await loop;

    // Watched again after idling: the pollers' kept snapshots are stale until they poll.
    const late: DrainProgress[] = [];
    const again = new AbortController();
    const lateLoop = (async () => {
      for await (const p of watchDrainProgress(started.drainId, again.signal)) late.push(p);
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(late[0]).toMatchObject({ waitingFor: ["lvs1", "lvs2"], drained: false });
    expect(late[0]?.perDirector.map((d) => d.reachability)).toEqual(["stale", "stale"]);
    await vi.advanceTimersByTimeAsync(150);
    expect(late.at(-1)).toMatchObject({ waitingFor: [], drained: true });
    again.abort();
    await lateLoop;
    expect(registry.find("lvs1")?.running).toBe(false);
  });
});
