import { describe, expect, it } from "vitest";
import { type ForwardMethod } from "@/server/ipvs/model";
import { type ProcRealserver, parseProcServices } from "./proc-services";
import { fixture, parseErrorOf } from "@/test/support/parse";

function rs(
  address: string,
  port: number,
  forward: ForwardMethod,
  weight: number,
  activeConns: number,
  inactiveConns: number,
): ProcRealserver {
  return { address, port, forward, weight, activeConns, inactiveConns };
}

describe("parseProcServices", () => {
  it("reads /proc/net/ip_vs in the kernel's order, timeouts in ticks", () => {
    expect(parseProcServices(fixture("proc-net-ip_vs.txt"))).toEqual([
      {
        key: { kind: "udp", address: "203.0.113.10", port: 123 },
        scheduler: "rr",
        ops: true,
        persistence: null,
        realservers: [rs("10.10.0.13", 123, "masq", 1, 0, 0)],
      },
      {
        key: { kind: "tcp", address: "203.0.113.10", port: 80 },
        scheduler: "rr",
        ops: false,
        // 300 s at HZ=100 (the UML lab kernel).
        persistence: { timeoutTicks: 30000, netmaskHex: "FFFFFFFF" },
        realservers: [
          rs("10.10.0.13", 80, "masq", 1, 4, 13),
          rs("10.10.0.12", 80, "masq", 1, 3, 10),
          rs("10.10.0.11", 80, "masq", 1, 3, 10),
        ],
      },
      {
        key: { kind: "udp", address: "203.0.113.10", port: 53 },
        scheduler: "sh",
        ops: false,
        persistence: null,
        realservers: [
          rs("10.10.0.12", 53, "masq", 1, 0, 19),
          rs("10.10.0.11", 53, "masq", 1, 0, 14),
        ],
      },
      {
        key: { kind: "tcp", address: "2001:db8:100::10", port: 80 },
        scheduler: "rr",
        ops: false,
        persistence: null,
        realservers: [
          rs("2001:db8:200::12", 80, "masq", 1, 0, 2),
          rs("2001:db8:200::11", 80, "masq", 1, 0, 2),
        ],
      },
      {
        key: { kind: "tcp", address: "203.0.113.11", port: 443 },
        scheduler: "wlc",
        ops: false,
        persistence: { timeoutTicks: 12000, netmaskHex: "FFFFFF00" },
        realservers: [
          rs("10.10.0.15", 443, "tunnel", 1, 0, 0),
          rs("10.10.0.14", 443, "route", 1, 0, 0),
          rs("10.10.0.13", 443, "masq", 2, 0, 0),
        ],
      },
      {
        key: { kind: "tcp", address: "203.0.113.10", port: 8080 },
        scheduler: "wrr",
        ops: false,
        persistence: null,
        realservers: [
          rs("10.10.0.13", 80, "masq", 0, 0, 0),
          rs("10.10.0.12", 80, "masq", 2, 2, 13),
          rs("10.10.0.11", 80, "masq", 3, 1, 22),
        ],
      },
      {
        key: { kind: "fwm", mark: 1, family: "inet" },
        scheduler: "mh",
        ops: false,
        persistence: null,
        realservers: [
          rs("10.10.0.12", 80, "masq", 1, 0, 16),
          rs("10.10.0.11", 80, "masq", 1, 0, 17),
        ],
      },
    ]);
  });

  it("refuses a garbled line and a realserver before any service, naming the line", () => {
    const lines = fixture("proc-net-ip_vs.txt").split("\n");
    const garbled = [
      ...lines.slice(0, 4),
      "  -> 0A0A000D:7B      Masq    1      0          0",
    ].join("\n");
    expect(parseErrorOf(() => parseProcServices(garbled))).toMatchObject({
      code: "PARSE_ERROR",
      source: "/proc/net/ip_vs",
      lineNumber: 5,
      line: "  -> 0A0A000D:7B      Masq    1      0          0",
    });
    const orphan = [...lines.slice(0, 3), lines[4] ?? ""].join("\n");
    expect(parseErrorOf(() => parseProcServices(orphan))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 4,
    });
    expect(parseErrorOf(() => parseProcServices(""))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 1,
    });
  });
});
