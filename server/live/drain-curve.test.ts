import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "@/server/db";
import type { Drain } from "@/server/db/drains";
import { DRAIN_LEAD_MS, drainCurve, sumSeries } from "./drain-curve";
import { HistoryStore, type HistoryPoint } from "./history";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const p = (at: number, active: number, inactive = 0, persistent = 0) => ({
  at,
  active,
  inactive,
  persistent,
});

describe("sumSeries", () => {
  it("adds each director's newest value at every poll time, as the live progress does", () => {
    const a = [p(1000, 5, 2, 1), p(3000, 3, 2, 1), p(5000, 1, 0, 0)];
    const b = [p(2000, 4), p(4000, 2)];
    expect(sumSeries([a, b]).map((x) => [x.at, x.active, x.inactive])).toEqual([
      [1000, 5, 2],
      [2000, 9, 2],
      [3000, 7, 2],
      [4000, 5, 2],
      [5000, 3, 0],
    ]);
  });

  it("gives rows of one poll (same time) one point", () => {
    expect(sumSeries([[p(1000, 1)], [p(1000, 2)]])).toEqual([p(1000, 3)]);
    expect(sumSeries([])).toEqual([]);
  });
});

describe("drainCurve", () => {
  let db: Db;
  beforeEach(() => {
    db = openDb(":memory:");
  });
  afterEach(() => {
    db.close();
  });

  const drain: Pick<Drain, "realserver" | "original" | "startedAt" | "updatedAt" | "state"> = {
    realserver: { address: "10.10.0.11", port: null },
    startedAt: T0,
    updatedAt: T0 + 60_000,
    state: "undrained",
    original: [
      {
        directorId: "a",
        service: { kind: "tcp", address: "203.0.113.10", port: 80 },
        port: 80,
        weight: 1,
      },
      {
        directorId: "a",
        service: { kind: "tcp", address: "203.0.113.10", port: 8080 },
        port: 8080,
        weight: 3,
      },
    ],
  };

  function put(service: string, realserver: string, point: HistoryPoint) {
    db.prepare(
      `INSERT INTO history (director_id, service, realserver, resolution, at, cps, in_bps, out_bps, active, inactive, persistent)
       VALUES ('a', ?, ?, 0, ?, 0, 0, 0, ?, ?, ?)`,
    ).run(service, realserver, point.at, point.active, point.inactive, point.persistent);
  }
  const point = (at: number, active: number, persistent = 0): HistoryPoint => ({
    at,
    cps: 0,
    inBps: 0,
    outBps: 0,
    active,
    inactive: 0,
    persistent,
  });

  it("sums the drain's memberships from before its start, marks the weight changes, stops at undrain", () => {
    for (const [i, at] of [
      T0 - 2 * DRAIN_LEAD_MS,
      T0 - 10_000,
      T0 + 10_000,
      T0 + 70_000,
    ].entries()) {
      put("TCP 203.0.113.10:80", "10.10.0.11:80", point(at, 10 - i, 4));
      put("TCP 203.0.113.10:8080", "10.10.0.11:8080", point(at, 5 - i));
      put("TCP 203.0.113.10:80", "10.10.0.12:80", point(at, 100));
    }
    const curve = drainCurve(new HistoryStore(db), drain, T0 + 80_000);
    expect(curve.points).toEqual([
      { at: T0 - 10_000, active: 13, inactive: 0, persistent: 4 },
      { at: T0 + 10_000, active: 11, inactive: 0, persistent: 4 },
    ]);
    expect(curve.marks).toEqual([
      { at: T0, label: "weight 0" },
      { at: T0 + 60_000, label: "weight restored" },
    ]);
  });
});
