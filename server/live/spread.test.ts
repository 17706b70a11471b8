import { describe, expect, it } from "vitest";
import { onPhase, slotOf } from "./spread";

describe("slotOf", () => {
  it("gives every id the same slot each time, in range", () => {
    expect(slotOf("sim0001", 2000)).toBe(slotOf("sim0001", 2000));
    for (const id of ["", "lab1", "ha-a", "sim0499"]) {
      const slot = slotOf(id, 15);
      expect(Number.isInteger(slot) && slot >= 0 && slot < 15).toBe(true);
    }
    expect(slotOf("x", 0)).toBe(0);
  });

  it("spreads a fleet's ids with sequential names over the slots", () => {
    const counts = new Array<number>(15).fill(0);
    for (let i = 0; i < 500; i++) counts[slotOf(`sim${String(i).padStart(4, "0")}`, 15)]!++;
    // 500 over 15 slots is 33 each; a burst would put most of them in one.
    expect(Math.min(...counts)).toBeGreaterThan(15);
    expect(Math.max(...counts)).toBeLessThan(55);
  });
});

describe("onPhase", () => {
  it("moves a time to the nearest slot, within half an interval", () => {
    expect(onPhase(1_002_000, 2000, 700)).toBe(1_002_700);
    expect(onPhase(1_002_700, 2000, 700)).toBe(1_002_700);
    expect(onPhase(1_003_000, 2000, 700)).toBe(1_002_700);
    expect(onPhase(1_003_800, 2000, 700)).toBe(1_004_700);
    expect(onPhase(1_000, 0, 700)).toBe(1_000);
  });
});
