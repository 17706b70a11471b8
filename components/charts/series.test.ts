import { describe, expect, it } from "vitest";
import { alignSeries } from "./series";

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
