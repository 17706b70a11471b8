import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseSnapshot } from "@/server/live/snapshot-parse";
import { pollOutput } from "@/test/support/snapshot-output";
import type { DirectorSnapshot } from "@/server/live/types";
import { COARSE, COARSE_KEEP_MS, FINE, FINE_KEEP_MS, HistoryStore, rowsOf } from "./history";
import { openDb, type Db } from "@/server/db";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const WEB = { directorId: "lvs1", service: "TCP 203.0.113.10:80" };
const RS = { ...WEB, realserver: "10.10.0.11:80" };

/** The captured director at `at`, with every rate set to `cps` (bytes: 100x). */
let parsed: DirectorSnapshot | undefined;
function snapshotAt(at: number, cps = 1): DirectorSnapshot {
  // Parsed once: a day of polls re-parsing the capture is what made these tests slow.
  parsed ??= parseSnapshot(pollOutput("full"), {
    directorId: "lvs1",
    clusterId: "web",
    takenAt: at,
    previous: null,
    cached: null,
  });
  const s = { ...structuredClone(parsed), takenAt: at };
  const rates = { cps, inPps: cps, outPps: cps, inBps: 100 * cps, outBps: 200 * cps };
  for (const service of s.services) {
    service.rates = rates;
    for (const rs of service.realservers) rs.rates = rates;
  }
  return s;
}

let db: Db;
beforeEach(() => {
  db = openDb(":memory:");
});
afterEach(() => {
  db.close();
});

const count = (resolution: number) =>
  (
    db.prepare("SELECT count(*) AS n FROM history WHERE resolution = ?").get(resolution) as {
      n: number;
    }
  ).n;

describe("history rows", () => {
  it("has one row per realserver, per service and for the director, from a real capture", () => {
    const rows = rowsOf(snapshotAt(T0, 2));
    // 16 realserver memberships in 7 services, and the director.
    expect(rows).toHaveLength(16 + 7 + 1);
    const web = rows.find((r) => r.service === WEB.service && r.realserver === "");
    expect(web).toMatchObject({ active: 10, inactive: 33, cps: 2 });
    const director = rows.find((r) => r.service === "" && r.realserver === "");
    expect(director).toMatchObject({ cps: 14, inBps: 1400, outBps: 2800 });
    expect(
      rows.find((r) => r.realserver === RS.realserver && r.service === WEB.service),
    ).toMatchObject({ active: 3, inactive: 10 });
  });

  it("adds nothing for a first poll, which has no rates yet", () => {
    const s = snapshotAt(T0);
    for (const service of s.services) service.rates = null;
    expect(rowsOf(s)).toEqual([]);
  });
});

describe("HistoryStore", () => {
  it("keeps every poll for the last hour and folds each finished minute into its average", () => {
    const store = new HistoryStore(db);
    // 3 minutes of polls every 2 s; cps = the minute number + 1.
    for (let t = 0; t < 3 * 60_000; t += 2000)
      store.record(snapshotAt(T0 + t, Math.floor(t / 60_000) + 1));
    store.record(snapshotAt(T0 + 3 * 60_000, 9));
    const fine = store.read(RS, FINE, T0);
    expect(fine).toHaveLength(91);
    expect(fine[0]).toEqual({
      at: T0,
      cps: 1,
      inBps: 100,
      outBps: 200,
      active: 3,
      inactive: 10,
      persistent: expect.any(Number) as number,
    });
    const coarse = store.read(RS, COARSE, T0);
    expect(coarse.map((p) => [p.at - T0, p.cps])).toEqual([
      [0, 1],
      [60_000, 2],
      [120_000, 3],
    ]);
  });

  it("prunes fine rows after an hour and coarse rows after a day, so its size is bounded", () => {
    const store = new HistoryStore(db);
    const step = 30_000;
    for (let t = 0; t <= 2 * 3_600_000; t += step) store.record(snapshotAt(T0 + t));
    const keys = 24;
    expect(count(FINE)).toBeLessThanOrEqual((FINE_KEEP_MS / step + 1) * keys);
    expect(store.read(RS, FINE, 0)[0]?.at).toBeGreaterThanOrEqual(
      T0 + 2 * 3_600_000 - FINE_KEEP_MS,
    );
    expect(count(COARSE)).toBe(120 * keys);

    store.record(snapshotAt(T0 + 2 * 3_600_000 + COARSE_KEEP_MS));
    expect(store.read(RS, COARSE, 0).every((p) => p.at >= T0 + 2 * 3_600_000)).toBe(true);
    expect(count(FINE)).toBe(keys);
  }, 30_000); // two hours of polls and a day's pruning: seconds on a loaded 2-core host

  it("gathers polls for flushMs and writes them in one go, by its timer or before a read", () => {
    vi.useFakeTimers();
    try {
      const store = new HistoryStore(db, { flushMs: 1000 });
      store.record(snapshotAt(T0, 5));
      store.record(snapshotAt(T0 + 2000, 7));
      expect(count(FINE)).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(count(FINE)).toBe(2 * 24);
      store.record(snapshotAt(T0 + 4000, 9));
      expect(store.read(RS, FINE, T0).map((p) => p.cps)).toEqual([5, 7, 9]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("folds a minute that ended from memory like the table would, also for a director no longer polled", () => {
    const store = new HistoryStore(db);
    // Minute 0 is the store's first (folded from the table); minute 1 from memory.
    for (let t = 0; t < 2 * 60_000; t += 2000) store.record(snapshotAt(T0 + t, t % 4000 ? 1 : 3));
    const other = snapshotAt(T0 + 2 * 60_000, 1);
    other.directorId = "lvs2";
    store.record(other); // lvs1 is not polled any more: its minute 1 is still folded
    const coarse = store.read(RS, COARSE, T0);
    expect(coarse.map((p) => [p.at - T0, p.cps])).toEqual([
      [0, 2],
      [60_000, 2],
    ]);
  });

  it("carries on after a restart without changing what was compacted", () => {
    const first = new HistoryStore(db);
    for (let t = 0; t < 2 * 60_000; t += 2000) first.record(snapshotAt(T0 + t, 4));
    first.record(snapshotAt(T0 + 2 * 60_000, 4));
    const before = first.read(RS, COARSE, T0);
    const second = new HistoryStore(db);
    second.record(snapshotAt(T0 + 2 * 60_000 + 2000, 8));
    expect(second.read(RS, COARSE, T0)).toEqual(before);
    expect(second.read(RS, FINE, T0).at(-1)?.cps).toBe(8);
  });

  it("reads a span longer than an hour as minutes, then polls, and a director's series at once", () => {
    const store = new HistoryStore(db);
    for (let t = 0; t <= 90 * 60_000; t += 60_000) store.record(snapshotAt(T0 + t, 2));
    const now = T0 + 90 * 60_000;
    const span = store.readSpan(RS, T0, now);
    const fineFrom = now - FINE_KEEP_MS;
    expect(span[0]?.at).toBe(T0);
    expect(span.filter((p) => p.at < fineFrom).every((p) => p.at % 60_000 === 0)).toBe(true);
    expect(span.at(-1)?.at).toBe(now);
    expect(span.map((p) => p.at)).toEqual([...span.map((p) => p.at)].sort((a, b) => a - b));

    const all = store.readDirector("lvs1", FINE, now - 60_000);
    expect(all).toHaveLength(24);
    expect(all.find((s) => s.service === "" && s.realserver === "")?.points).toHaveLength(2);
  }, 30_000);
});
