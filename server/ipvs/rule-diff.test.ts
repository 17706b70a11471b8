import { describe, expect, it } from "vitest";
import { diffRules } from "./rule-diff";
import { rulesOf, type ServiceWithRealservers } from "./rules";
import type { RealserverRule } from "@/server/ipvs/model";

function rs(address: string, weight: number, extra: Partial<RealserverRule> = {}): RealserverRule {
  return {
    address,
    port: 80,
    forward: "masq",
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnel: null,
    ...extra,
  };
}

function web(
  realservers: RealserverRule[],
  extra: Partial<ServiceWithRealservers> = {},
): ServiceWithRealservers {
  return {
    key: { kind: "tcp", address: "203.0.113.10", port: 80 },
    scheduler: "rr",
    persistence: { timeout: 300, netmask: null },
    ops: false,
    schedFlags: [],
    pe: null,
    realservers,
    ...extra,
  };
}

const dns: ServiceWithRealservers = {
  key: { kind: "udp", address: "203.0.113.10", port: 53 },
  scheduler: "sh",
  persistence: null,
  ops: false,
  schedFlags: ["sh-fallback", "sh-port"],
  pe: null,
  realservers: [rs("10.10.0.11", 1, { port: 53 })],
};

describe("diffRules", () => {
  it("reports nothing for the same rules, whatever the counters", () => {
    const before = [web([rs("10.10.0.11", 1), rs("10.10.0.12", 1)]), dns];
    expect(diffRules(before, rulesOf(before))).toEqual([]);
  });

  it("says which realserver's weight changed, from what to what", () => {
    const before = [web([rs("10.10.0.11", 1), rs("10.10.0.12", 1)])];
    const after = [web([rs("10.10.0.11", 0), rs("10.10.0.12", 1)])];
    expect(diffRules(before, after)).toEqual([
      {
        kind: "realserverEdited",
        service: { kind: "tcp", address: "203.0.113.10", port: 80 },
        realserver: { address: "10.10.0.11", port: 80 },
        field: "weight",
        from: "1",
        to: "0",
        text: "TCP 203.0.113.10:80: 10.10.0.11:80 weight 1 -> 0",
      },
    ]);
  });

  it("sees the forwarding method and thresholds an ipvsadm -e without options resets", () => {
    const before = [web([rs("10.10.0.11", 1, { upperThreshold: 100, lowerThreshold: 50 })])];
    const after = [web([rs("10.10.0.11", 0, { forward: "route" })])];
    expect(diffRules(before, after).map((c) => c.text)).toEqual([
      "TCP 203.0.113.10:80: 10.10.0.11:80 forwarding masq -> route",
      "TCP 203.0.113.10:80: 10.10.0.11:80 weight 1 -> 0",
      "TCP 203.0.113.10:80: 10.10.0.11:80 upper threshold 100 -> 0",
      "TCP 203.0.113.10:80: 10.10.0.11:80 lower threshold 50 -> 0",
    ]);
  });

  it("lists realservers added and removed", () => {
    const before = [web([rs("10.10.0.11", 1), rs("10.10.0.12", 1)])];
    const after = [web([rs("10.10.0.12", 1), rs("10.10.0.13", 2)])];
    expect(diffRules(before, after).map((c) => [c.kind, c.text])).toEqual([
      ["realserverAdded", "TCP 203.0.113.10:80: realserver 10.10.0.13:80 added (masq, weight 2)"],
      ["realserverRemoved", "TCP 203.0.113.10:80: realserver 10.10.0.11:80 removed"],
    ]);
  });

  it("lists services added (with their realservers) and removed", () => {
    const before = [web([rs("10.10.0.11", 1)])];
    const after = [dns];
    expect(diffRules(before, after).map((c) => c.text)).toEqual([
      "service UDP 203.0.113.10:53 sh added",
      "UDP 203.0.113.10:53: realserver 10.10.0.11:53 added (masq, weight 1)",
      "service TCP 203.0.113.10:80 rr persistent 300 removed",
    ]);
  });

  it("reports scheduler, persistence and flag edits of a service", () => {
    const before = [web([rs("10.10.0.11", 1)])];
    const after = [
      web([rs("10.10.0.11", 1)], {
        scheduler: "sh",
        persistence: { timeout: 60, netmask: "255.255.255.0" },
        schedFlags: ["sh-port", "sh-fallback"],
      }),
    ];
    expect(diffRules(before, after).map((c) => c.text)).toEqual([
      "TCP 203.0.113.10:80: scheduler rr -> sh",
      "TCP 203.0.113.10:80: persistence 300 s -> 60 s mask 255.255.255.0",
      "TCP 203.0.113.10:80: scheduler flags none -> sh-fallback,sh-port",
    ]);
  });

  it("tells a fwmark service from a TCP service on the same numbers", () => {
    const fwm: ServiceWithRealservers = {
      ...web([rs("10.10.0.11", 1)]),
      key: { kind: "fwm", mark: 1, family: "inet" },
    };
    expect(diffRules([fwm], [fwm, web([])]).map((c) => c.kind)).toEqual(["serviceAdded"]);
  });
});
