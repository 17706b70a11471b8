import { describe, expect, it } from "vitest";
import type { HistoryPoint } from "./history";
import { foldSeries } from "./history-top";

const point = (at: number, p: Partial<HistoryPoint>): HistoryPoint => ({
  at,
  cps: 0,
  inBps: 0,
  outBps: 0,
  active: 0,
  inactive: 0,
  persistent: 0,
  ...p,
});
const series = (service: string, p: Partial<HistoryPoint>) => ({
  service,
  realserver: "",
  points: [point(1000, p), point(3000, p)],
});

describe("foldSeries", () => {
  it("leaves as many series as the charts draw alone", () => {
    const parts = [series("a", { cps: 1 }), series("b", { cps: 2 })];
    expect(foldSeries(parts, 2)).toEqual(parts.map((s) => ({ ...s, others: 0 })));
  });

  it("keeps the top of each chart's measure and sums the rest point by point", () => {
    const parts = [
      series("busy-cps", { cps: 50 }),
      series("busy-bytes", { inBps: 900, outBps: 100 }),
      series("busy-active", { active: 70 }),
      series("quiet-1", { cps: 1, inBps: 10, active: 1, inactive: 2, persistent: 3 }),
      series("quiet-2", { cps: 2, outBps: 20, active: 2 }),
      series("quiet-3", { cps: 3, active: 3 }),
    ];
    // keep 3: the top 2 of each of cps, bytes and active
    const folded = foldSeries(parts, 3);
    expect(folded.map((s) => s.service)).toEqual([
      "busy-cps",
      "busy-bytes",
      "busy-active",
      "quiet-2",
      "quiet-3",
      "",
    ]);
    const others = folded.at(-1);
    expect(others?.others).toBe(1);
    const quiet1 = { cps: 1, inBps: 10, active: 1, inactive: 2, persistent: 3 };
    expect(others?.points).toEqual([point(1000, quiet1), point(3000, quiet1)]);

    const many = Array.from({ length: 200 }, (_, i) =>
      series(`s${i}`, { cps: i, inBps: i, active: i }),
    );
    const top = foldSeries(many, 10);
    expect(top).toHaveLength(10);
    expect(top.at(-1)).toMatchObject({ service: "", others: 191 });
    expect(top.at(-1)?.points[0]?.cps).toBe((190 * 191) / 2);
  });
});
