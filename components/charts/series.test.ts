import { describe, expect, it } from "vitest";
import { alignSeries, topLines } from "./series";

describe("alignSeries", () => {
  it("puts every line on one sorted time axis in seconds, null where a line has no point", () => {
    const data = alignSeries([
      {
        label: "rs1",
        points: [
          { at: 2000, value: 1 },
          { at: 4000, value: 2 },
        ],
      },
      {
        label: "rs2",
        points: [
          { at: 3000, value: 5 },
          { at: 2000, value: 4 },
        ],
      },
    ]);
    expect(data).toEqual([
      [2, 3, 4],
      [1, null, 2],
      [4, 5, null],
    ]);
  });

  it("is one empty axis without lines", () => {
    expect(alignSeries([])).toEqual([[]]);
  });
});

describe("topLines", () => {
  const line = (label: string, values: number[]) => ({
    label,
    points: values.map((value, i) => ({ at: i * 1000, value })),
  });

  it("keeps every line up to the limit", () => {
    const lines = [line("a", [1]), line("b", [2])];
    expect(topLines(lines, 2)).toEqual(lines);
  });

  it("keeps the busiest and sums the rest into one line, point by point", () => {
    const lines = [
      line("quiet", [1, 1]),
      line("busy", [9, 9]),
      line("mid", [3, 4]),
      line("low", [2, 0]),
    ];
    const top = topLines(lines, 3);
    expect(top.map((l) => l.label)).toEqual(["busy", "mid", "2 others"]);
    expect(top[2]?.points).toEqual([
      { at: 0, value: 3 },
      { at: 1000, value: 1 },
    ]);
  });

  it("counts a line that already sums others (the server's fold) as that many", () => {
    const folded = { ...line("40 others", [1, 1]), count: 40 };
    const top = topLines([line("busy", [9, 9]), line("mid", [3, 4]), folded], 2);
    expect(top.map((l) => l.label)).toEqual(["busy", "41 others"]);
  });
});
