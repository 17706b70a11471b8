import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exactBytes, formatBytes, formatClock, formatDateTime, formatExpiry } from "./format";

const AT = Date.UTC(2026, 11, 1, 21, 55, 3); // 2026-12-01 21:55:03 UTC
const SUMMER = Date.UTC(2026, 6, 1, 9, 5, 0);

let tz: string | undefined;
beforeEach(() => {
  tz = process.env.TZ;
  process.env.TZ = "Europe/Berlin";
});
afterEach(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe("times show their zone", () => {
  it.each([
    [AT, "utc", "2026-12-01 21:55:03 UTC", "21:55:03 UTC"],
    [AT, "local", "2026-12-01 22:55:03 CET", "22:55:03 CET"],
    [SUMMER, "local", "2026-07-01 11:05:00 CEST", "11:05:00 CEST"],
  ] as const)("%s in %s", (ms, zone, dateTime, clock) => {
    expect(formatDateTime(ms, zone)).toBe(dateTime);
    expect(formatClock(ms, zone)).toBe(clock);
  });
});

describe("connection expiry as ipvsadm -Lnc prints it", () => {
  // The expire column of server/ipvs/__fixtures__/ipvsadm-Lnc.txt: 04:40, 14:55, 01:23.
  it.each([
    [280, "04:40"],
    [895, "14:55"],
    [83, "01:23"],
    [0, "00:00"],
    [59.9, "00:59"],
    [7200, "120:00"],
  ])("%s s -> %s", (seconds, text) => {
    expect(formatExpiry(seconds)).toBe(text);
  });
});

describe("byte totals", () => {
  it.each([
    [0n, "0 B"],
    [999n, "999 B"],
    [18862n, "18.9 kB"],
    [20009n, "20.0 kB"],
    [1_234_567_890n, "1.2 GB"],
    [2n ** 64n - 1n, "18.4 EB"],
  ])("%s -> %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it("keeps the exact value for the hover text, every digit of a 64-bit counter", () => {
    expect(exactBytes(18862n)).toBe("18,862 bytes");
    expect(exactBytes(2n ** 64n - 1n)).toBe("18,446,744,073,709,551,615 bytes");
    expect(exactBytes(null)).toBeUndefined();
    expect(formatBytes(null)).toBe("—");
  });
});
