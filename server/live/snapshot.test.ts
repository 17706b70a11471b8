import { describe, expect, it } from "vitest";
import type { ConnectionStats, ExecResult, ScriptOptions, SshPool } from "@/server/ssh/pool";
import { lastRead, readSnapshot } from "./snapshot";
import { slotOf } from "./spread";
import { SNAPSHOT_SCRIPT, type ReadKind, type ReadRequest } from "./snapshot-script";
import { outputFor } from "@/test/support/snapshot-output";
import type { DirectorSnapshot } from "./types";
import { testDirector } from "@/test/support/director";

const director = testDirector;

/** A pool whose director answers from the fixtures, logging what each read asked for. */
function fakePool() {
  const reads: ReadRequest[] = [];
  // weight: of 10.10.0.11:80 in TCP 203.0.113.10:8080 (3 in the capture), in every listing.
  const state = { connects: 1, weight: 3 };
  const unused = (): never => {
    throw new Error("not used by readSnapshot");
  };
  const pool: SshPool = {
    exec: unused,
    execChecked: unused,
    execScript(_director, script: string, opts: ScriptOptions = {}): Promise<ExecResult> {
      expect(script).toBe(SNAPSHOT_SCRIPT);
      const [kind, tunnels, meta] = opts.args ?? [];
      const request: ReadRequest = {
        kind: kind as ReadKind,
        tunnels: tunnels === "1",
        meta: meta === "1",
      };
      reads.push(request);
      const stdout = outputFor(request)
        .replace(
          "  -> 10.10.0.11:80                3         0           1          22",
          `  -> 10.10.0.11:80                ${state.weight}         0           1          22`,
        )
        .replace(
          "  -> 10.10.0.11:80 Masq n/a 3 1 22",
          `  -> 10.10.0.11:80 Masq n/a ${state.weight} 1 22`,
        );
      return Promise.resolve({ stdout, stderr: "", exitCode: 0 });
    },
    stats: (): ConnectionStats => ({
      connects: state.connects,
      commands: reads.length,
      execChannels: 0,
      shellsOpened: 0,
      inFlight: 0,
      queued: 0,
      state: "ready",
    }),
    resetBackoff: () => undefined,
    close: () => undefined,
    closeAll: () => undefined,
  };
  return { pool, reads, state };
}

const kinds = (reads: ReadRequest[]) => reads.map((r) => r.kind);

describe("readSnapshot", () => {
  it("polls light, with a full read first and every Nth poll, all with one version", async () => {
    const { pool, reads } = fakePool();
    const versions = new Set<string>();
    let previous: DirectorSnapshot | null = null;
    // The first full read on a connection counts as the director's slot of light reads.
    const slot = slotOf(director.id, 4);
    const first = 3 - slot;
    for (let i = 0; i < 6 + first; i++) {
      previous = await readSnapshot(director, { pool, previous, mode: "poll", fullReadEvery: 4 });
      versions.add(previous.version);
      expect(previous.services[2]?.realservers[0]?.upperThreshold).toBe(100);
    }
    expect(kinds(reads)).toEqual([
      "full",
      ...Array<ReadKind>(first).fill("light"),
      "full",
      "light",
      "light",
      "light",
      "full",
    ]);
    expect(reads[0]).toEqual({ kind: "full", tunnels: true, meta: true });
    expect(lastRead("lab1", pool)).toEqual({ kind: "full", tunnels: true, meta: true });
    expect(versions.size).toBe(1);
  });

  it("spreads the fleet's full reads: directors connected together read fully on different polls", async () => {
    const { pool, reads } = fakePool();
    const ids = Array.from({ length: 60 }, (_, i) => `sim${String(i).padStart(4, "0")}`);
    const polls = 16;
    const fullAt = new Map<number, number>();
    for (const id of ids) {
      let previous: DirectorSnapshot | null = null;
      for (let i = 0; i < polls; i++) {
        const before = reads.length;
        const d = { ...director, id };
        previous = await readSnapshot(d, { pool, previous, mode: "poll", fullReadEvery: 15 });
        // The second full read of each director (its first is the connection's).
        if (i > 0 && reads[before]?.kind === "full" && !fullAt.has(ids.indexOf(id)))
          fullAt.set(ids.indexOf(id), i);
      }
    }
    expect(fullAt.size).toBe(ids.length);
    // Poll 1..15: with every director on the same poll that was one burst of 60 full reads.
    const perPoll = new Map<number, number>();
    for (const i of fullAt.values()) perPoll.set(i, (perPoll.get(i) ?? 0) + 1);
    expect(perPoll.size).toBeGreaterThanOrEqual(10);
    expect(Math.max(...perPoll.values())).toBeLessThanOrEqual(12);
  });

  it("always reads everything for a caller that decides on the rules", async () => {
    const { pool, reads } = fakePool();
    await readSnapshot(director, { pool, mode: "poll" });
    const exact = await readSnapshot(director, { pool });
    await readSnapshot(director, { pool, mode: "exact" });
    expect(kinds(reads)).toEqual(["full", "full", "full"]);
    // Version and timeouts are no rules: read again only on a new connection.
    expect(reads.slice(1).map((r) => r.meta)).toEqual([false, false]);
    expect(exact.ipvsadm?.ipvsadm).toBe("1.31");
    expect(exact.timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  it("reads everything on the first poll of a new connection", async () => {
    const { pool, reads, state } = fakePool();
    await readSnapshot(director, { pool, mode: "poll" });
    await readSnapshot(director, { pool, mode: "poll" });
    state.connects = 2;
    await readSnapshot(director, { pool, mode: "poll" });
    await readSnapshot(director, { pool, mode: "poll" });
    expect(kinds(reads)).toEqual(["full", "light", "full", "light"]);
    expect(reads[2]?.meta).toBe(true);
  });

  it("reads everything again at once when a light poll sees other rules", async () => {
    const { pool, reads, state } = fakePool();
    const before = await readSnapshot(director, { pool, mode: "poll" });
    state.weight = 4;
    const after = await readSnapshot(director, { pool, mode: "poll" });
    expect(kinds(reads)).toEqual(["full", "light", "full"]);
    expect(after.version).not.toBe(before.version);
    expect(after.services[1]?.realservers[0]?.weight).toBe(4);
    expect(after.services[2]?.realservers[0]?.upperThreshold).toBe(100);
    // The next light poll goes by the new full read.
    expect((await readSnapshot(director, { pool, mode: "poll" })).version).toBe(after.version);
    expect(kinds(reads).at(-1)).toBe("light");
  });

  it("lets a change's full read be the base of the next light poll", async () => {
    const { pool, reads, state } = fakePool();
    await readSnapshot(director, { pool, mode: "poll" });
    state.weight = 0;
    const verified = await readSnapshot(director, { pool });
    const polled = await readSnapshot(director, { pool, mode: "poll" });
    expect(kinds(reads)).toEqual(["full", "full", "light"]);
    expect(polled.version).toBe(verified.version);
  });
});
