import { describe, expect, it } from "vitest";
import {
  type Counters,
  type ForwardMethod,
  type Rates,
  type RealserverState,
  type ServiceState,
} from "@/server/ipvs/model";
import { parseRate, parseStats } from "./counters";
import { parseList } from "./list";
import { mergeListings } from "./merge";
import { fixture } from "@/test/support/parse";
import { thrownBy } from "@/test/support/errors";

type Five = [number, number, number, number, number];

function counters([conns, inPackets, outPackets, inBytes, outBytes]: Five): Counters {
  return {
    conns: BigInt(conns),
    inPackets: BigInt(inPackets),
    outPackets: BigInt(outPackets),
    inBytes: BigInt(inBytes),
    outBytes: BigInt(outBytes),
  };
}

function rates([cps, inPps, outPps, inBps, outBps]: Five): Rates {
  return { cps, inPps, outPps, inBps, outBps };
}

function member(
  address: string,
  port: number,
  forward: ForwardMethod,
  weight: number,
  conns: { active: number; inactive: number; persistent: number },
  stats: Five,
  rate: Five,
): RealserverState {
  return {
    address,
    port,
    forward,
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnel: null,
    activeConns: conns.active,
    inactiveConns: conns.inactive,
    persistentConns: conns.persistent,
    counters: counters(stats),
    rates: rates(rate),
  };
}

/** A member as a view without counters shows it (no --stats, --rate or --persistent-conn). */
function withoutCounters(
  address: string,
  port: number,
  forward: ForwardMethod,
  weight: number,
  conns: { active: number; inactive: number; persistent: number },
): RealserverState {
  return {
    ...member(address, port, forward, weight, conns, [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]),
    persistentConns: null,
    counters: null,
    rates: null,
  };
}

const RULE_DEFAULTS = { persistence: null, ops: false, schedFlags: [], pe: null };

/** Thrown error's code and details, for errors that carry no line. */
function mergeErrorOf(merge: () => unknown): { code: string; details: Record<string, unknown> } {
  const { code, details } = thrownBy(merge);
  return { code, details };
}

describe("mergeListings on the busy director", () => {
  it("merges -Ln, --exact --stats, --exact --rate and --persistent-conn into ServiceState", () => {
    const merged = mergeListings({
      list: parseList(fixture("ipvsadm-Ln.txt")),
      stats: parseStats(fixture("ipvsadm-Ln--exact--stats.txt")),
      rate: parseRate(fixture("ipvsadm-Ln--exact--rate.txt")),
      persistent: parseList(fixture("ipvsadm-Ln--persistent-conn.txt")),
    });
    const expected: ServiceState[] = [
      {
        ...RULE_DEFAULTS,
        key: { kind: "tcp", address: "203.0.113.10", port: 80 },
        scheduler: "rr",
        persistence: { timeout: 300, netmask: null },
        counters: counters([43, 290, 236, 18862, 20009]),
        rates: rates([0, 1, 1, 50, 50]),
        realservers: [
          member(
            "10.10.0.11",
            80,
            "masq",
            1,
            { active: 3, inactive: 10, persistent: 3 },
            [13, 87, 72, 5667, 6087],
            [0, 0, 0, 15, 15],
          ),
          member(
            "10.10.0.12",
            80,
            "masq",
            1,
            { active: 3, inactive: 10, persistent: 3 },
            [13, 89, 70, 5771, 5983],
            [0, 0, 0, 15, 15],
          ),
          member(
            "10.10.0.13",
            80,
            "masq",
            1,
            { active: 4, inactive: 13, persistent: 4 },
            [17, 114, 94, 7424, 7939],
            [0, 0, 0, 20, 20],
          ),
        ],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "tcp", address: "203.0.113.10", port: 8080 },
        scheduler: "wrr",
        counters: counters([38, 261, 208, 16911, 18324]),
        rates: rates([0, 0, 0, 19, 20]),
        realservers: [
          member(
            "10.10.0.11",
            80,
            "masq",
            3,
            { active: 1, inactive: 22, persistent: 0 },
            [23, 162, 125, 10394, 11059],
            [0, 0, 0, 8, 9],
          ),
          member(
            "10.10.0.12",
            80,
            "masq",
            2,
            { active: 2, inactive: 13, persistent: 0 },
            [15, 99, 83, 6517, 7265],
            [0, 0, 0, 11, 11],
          ),
          member(
            "10.10.0.13",
            80,
            "masq",
            0,
            { active: 0, inactive: 0, persistent: 0 },
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
          ),
        ],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "tcp", address: "203.0.113.11", port: 443 },
        scheduler: "wlc",
        persistence: { timeout: 120, netmask: "255.255.255.0" },
        counters: counters([2, 2, 4, 120, 296]),
        rates: rates([0, 0, 0, 0, 0]),
        realservers: [
          member(
            "10.10.0.13",
            443,
            "masq",
            2,
            { active: 0, inactive: 0, persistent: 0 },
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
          ),
          member(
            "10.10.0.14",
            443,
            "route",
            1,
            { active: 0, inactive: 0, persistent: 0 },
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
          ),
          // Plain -Ln does not show tunnel details: tunnel stays null (read --tun-info for them).
          member(
            "10.10.0.15",
            443,
            "tunnel",
            1,
            { active: 2, inactive: 0, persistent: 1 },
            [2, 2, 4, 120, 296],
            [0, 0, 0, 0, 0],
          ),
        ],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "udp", address: "203.0.113.10", port: 53 },
        scheduler: "sh",
        schedFlags: ["sh-fallback", "sh-port"],
        counters: counters([33, 33, 33, 990, 1056]),
        rates: rates([1, 1, 1, 25, 27]),
        realservers: [
          member(
            "10.10.0.11",
            53,
            "masq",
            1,
            { active: 0, inactive: 14, persistent: 0 },
            [14, 14, 14, 420, 448],
            [0, 0, 0, 9, 10],
          ),
          member(
            "10.10.0.12",
            53,
            "masq",
            1,
            { active: 0, inactive: 19, persistent: 0 },
            [19, 19, 19, 570, 608],
            [1, 1, 1, 15, 17],
          ),
        ],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "udp", address: "203.0.113.10", port: 123 },
        scheduler: "rr",
        ops: true,
        counters: counters([0, 0, 0, 0, 0]),
        rates: rates([0, 0, 0, 0, 0]),
        realservers: [
          member(
            "10.10.0.13",
            123,
            "masq",
            1,
            { active: 0, inactive: 0, persistent: 0 },
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
          ),
        ],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "tcp", address: "2001:db8:100::10", port: 80 },
        scheduler: "rr",
        counters: counters([4, 25, 23, 2160, 2532]),
        rates: rates([0, 2, 2, 205, 235]),
        realservers: [
          member(
            "2001:db8:200::11",
            80,
            "masq",
            1,
            { active: 0, inactive: 2, persistent: 0 },
            [2, 12, 12, 1044, 1302],
            [0, 1, 1, 130, 163],
          ),
          member(
            "2001:db8:200::12",
            80,
            "masq",
            1,
            { active: 0, inactive: 2, persistent: 0 },
            [2, 13, 11, 1116, 1230],
            [0, 1, 1, 74, 72],
          ),
        ],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "fwm", mark: 1, family: "inet" },
        scheduler: "mh",
        schedFlags: ["mh-fallback", "mh-port"],
        counters: counters([33, 216, 180, 14004, 16587]),
        rates: rates([0, 0, 0, 15, 18]),
        realservers: [
          member(
            "10.10.0.11",
            80,
            "masq",
            1,
            { active: 0, inactive: 17, persistent: 0 },
            [17, 113, 91, 7304, 8455],
            [0, 0, 0, 7, 8],
          ),
          member(
            "10.10.0.12",
            80,
            "masq",
            1,
            { active: 0, inactive: 16, persistent: 0 },
            [16, 103, 89, 6700, 8132],
            [0, 0, 0, 8, 10],
          ),
        ],
      },
    ];
    expect(merged).toEqual(expected);
  });

  it("leaves counters, rates and persistentConns null when only -Ln was read", () => {
    const merged = mergeListings({ list: parseList(fixture("ipvsadm-Ln.drain.txt")) });
    expect(merged[0]).toEqual({
      ...RULE_DEFAULTS,
      key: { kind: "tcp", address: "203.0.113.10", port: 80 },
      scheduler: "rr",
      persistence: { timeout: 300, netmask: null },
      counters: null,
      rates: null,
      realservers: [
        withoutCounters("10.10.0.11", 80, "masq", 0, { active: 3, inactive: 10, persistent: 0 }),
        withoutCounters("10.10.0.12", 80, "masq", 1, { active: 3, inactive: 10, persistent: 0 }),
        withoutCounters("10.10.0.13", 80, "masq", 1, { active: 4, inactive: 13, persistent: 0 }),
      ],
    });
    expect(merged.map((s) => s.realservers.length)).toEqual([3, 3, 3, 2, 1, 2, 2]);
  });

  it("merges the drain views: weight 0 with its persistence templates still counted", () => {
    const merged = mergeListings({
      list: parseList(fixture("ipvsadm-Ln.drain.txt")),
      persistent: parseList(fixture("ipvsadm-Ln--persistent-conn.drain.txt")),
    });
    expect(merged[0]?.realservers[0]).toMatchObject({
      address: "10.10.0.11",
      weight: 0,
      persistentConns: 3,
      activeConns: 3,
    });
    expect(merged[2]?.realservers[2]).toMatchObject({
      address: "10.10.0.15",
      forward: "tunnel",
      persistentConns: 1,
      activeConns: 0,
    });
  });

  it("takes thresholds and tunnel details from --thresholds and --tun-info", () => {
    const list = parseList(
      "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n" +
        "TCP  203.0.113.11:443 wlc\n" +
        "  -> 10.10.0.13:443               Masq    n/a           2      0          0\n" +
        "  -> 10.10.0.15:443               Tunnel  ipip          1      2          0\n",
    );
    const thresholds = parseList(
      "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n" +
        "  -> RemoteAddress:Port\n" +
        "TCP  203.0.113.11:443 wlc\n" +
        "  -> 10.10.0.13:443               100        50         0          0\n" +
        "  -> 10.10.0.15:443               0          0          2          0\n",
    );
    expect(mergeListings({ list, thresholds })[0]?.realservers).toEqual([
      {
        address: "10.10.0.13",
        port: 443,
        forward: "masq",
        weight: 2,
        upperThreshold: 100,
        lowerThreshold: 50,
        tunnel: null,
        activeConns: 0,
        inactiveConns: 0,
        persistentConns: null,
        counters: null,
        rates: null,
      },
      {
        address: "10.10.0.15",
        port: 443,
        forward: "tunnel",
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnel: { type: "ipip", port: null, noChecksum: false },
        activeConns: 2,
        inactiveConns: 0,
        persistentConns: null,
        counters: null,
        rates: null,
      },
    ]);
  });
});

describe("mergeListings refuses views of different moments", () => {
  const list = parseList(fixture("ipvsadm-Ln.txt"));
  const statsText = fixture("ipvsadm-Ln--exact--stats.txt");

  it("refuses a realserver missing from one view", () => {
    const stats = parseStats(statsText.replace(/^ {2}-> 10\.10\.0\.12:53 .*\n/m, ""));
    expect(mergeErrorOf(() => mergeListings({ list, stats }))).toEqual({
      code: "PARSE_ERROR",
      details: {
        source: "merge",
        service: "UDP 203.0.113.10:53",
        realserver: "10.10.0.12:53",
        view: "stats",
      },
    });
  });

  it("refuses a realserver present in one view only", () => {
    const rate = parseRate(
      fixture("ipvsadm-Ln--exact--rate.txt").replace(
        "UDP  203.0.113.10:123                    0        0        0        0        0\n",
        "UDP  203.0.113.10:123                    0        0        0        0        0\n  -> 10.10.0.14:123 0 0 0 0 0\n",
      ),
    );
    expect(mergeErrorOf(() => mergeListings({ list, rate }))).toEqual({
      code: "PARSE_ERROR",
      details: {
        source: "merge",
        service: "UDP 203.0.113.10:123",
        realserver: "10.10.0.14:123",
        view: "rate",
      },
    });
  });

  it("refuses a service missing from one view, or present in one only", () => {
    const withoutFwm = parseStats(statsText.replace(/^FWM {2}1 .*\n(^ {2}->.*\n)*/m, ""));
    expect(mergeErrorOf(() => mergeListings({ list, stats: withoutFwm }))).toEqual({
      code: "PARSE_ERROR",
      details: { source: "merge", service: "FWM 1", view: "stats" },
    });
    const extra = parseStats(
      statsText +
        "FWM  2                                   0        0        0        0        0\n",
    );
    expect(mergeErrorOf(() => mergeListings({ list, stats: extra }))).toEqual({
      code: "PARSE_ERROR",
      details: { source: "merge", service: "FWM 2", view: "stats" },
    });
  });

  it("refuses a weight that changed between -Ln and --persistent-conn", () => {
    const persistent = parseList(fixture("ipvsadm-Ln--persistent-conn.drain.txt"));
    expect(mergeErrorOf(() => mergeListings({ list, persistent }))).toEqual({
      code: "PARSE_ERROR",
      details: {
        source: "merge",
        service: "TCP 203.0.113.10:80",
        realserver: "10.10.0.11:80",
        view: "persistent",
      },
    });
  });

  it("refuses a service rule that changed between reads", () => {
    const persistent = parseList(
      fixture("ipvsadm-Ln--persistent-conn.txt").replace(
        "TCP  203.0.113.10:8080 wrr",
        "TCP  203.0.113.10:8080 rr",
      ),
    );
    expect(mergeErrorOf(() => mergeListings({ list, persistent }))).toEqual({
      code: "PARSE_ERROR",
      details: { source: "merge", service: "TCP 203.0.113.10:8080", view: "persistent" },
    });
  });

  it("refuses rounded counters from --stats without --exact", () => {
    const stats = parseStats(statsText.replace("   18862    20009", "   18862     123M"));
    expect(mergeErrorOf(() => mergeListings({ list, stats }))).toEqual({
      code: "PARSE_ERROR",
      details: { source: "merge", service: "TCP 203.0.113.10:80", view: "stats" },
    });
  });

  it("refuses a view of the wrong kind", () => {
    const persistent = parseList(fixture("ipvsadm-Ln--persistent-conn.txt"));
    expect(mergeErrorOf(() => mergeListings({ list: persistent }))).toEqual({
      code: "PARSE_ERROR",
      details: { source: "merge", view: "list" },
    });
    expect(mergeErrorOf(() => mergeListings({ list, persistent: list }))).toEqual({
      code: "PARSE_ERROR",
      details: { source: "merge", view: "persistent" },
    });
  });
});
