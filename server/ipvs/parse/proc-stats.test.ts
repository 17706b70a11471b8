import { describe, expect, it } from "vitest";
import { parseProcStats } from "./proc-stats";
import { parseStats } from "./counters";
import { fixture, parseErrorOf } from "@/test/support/parse";

describe("parseProcStats", () => {
  it("reads /proc/net/ip_vs_stats: totals and rates in hex", () => {
    expect(parseProcStats(fixture("proc-net-ip_vs_stats.txt"))).toEqual({
      totals: { conns: 153n, inPackets: 827n, outPackets: 684n, inBytes: 53047n, outBytes: 58804n },
      rates: { cps: 1, inPps: 4, outPps: 3, inBps: 235, outBps: 263 },
    });
  });

  it("has totals equal to the sum of the services of --exact --stats read at the same moment", () => {
    const { totals } = parseProcStats(fixture("proc-net-ip_vs_stats.txt"));
    const services = parseStats(fixture("ipvsadm-Ln--exact--stats.txt")).services;
    const sum = (pick: (v: (typeof services)[number]["values"]) => bigint): bigint =>
      services.reduce((acc, s) => acc + pick(s.values), 0n);
    expect(totals).toEqual({
      conns: sum((v) => v.conns),
      inPackets: sum((v) => v.inPackets),
      outPackets: sum((v) => v.outPackets),
      inBytes: sum((v) => v.inBytes),
      outBytes: sum((v) => v.outBytes),
    });
  });

  it("keeps 64-bit totals exact", () => {
    const text = fixture("proc-net-ip_vs_stats.txt")
      .replace("E5B4", "FFFFFFFFFFFFFFFF")
      .replaceAll("\n", "\r\n");
    expect(parseProcStats(text).totals.outBytes).toBe(18446744073709551615n);
  });

  it("refuses empty, truncated or garbled output, naming the line", () => {
    expect(parseErrorOf(() => parseProcStats(""))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 1,
      line: "",
    });
    const lines = fixture("proc-net-ip_vs_stats.txt").split("\n");
    expect(parseErrorOf(() => parseProcStats(lines.slice(0, 3).join("\n")))).toMatchObject({
      code: "PARSE_ERROR",
      source: "/proc/net/ip_vs_stats",
      lineNumber: 4,
      line: "",
    });
    const garbled = fixture("proc-net-ip_vs_stats.txt").replace("33B", "33Q");
    expect(parseErrorOf(() => parseProcStats(garbled))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 3,
      line: "      99      33Q      2AC             CF37             E5B4",
    });
  });
});
