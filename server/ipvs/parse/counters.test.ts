import { describe, expect, it } from "vitest";
import { type Counters, type Rates, type ServiceKey } from "@/server/ipvs/model";
import { type CounterService, parseRate, parseStats } from "./counters";
import { fixture, parseErrorOf } from "@/test/support/parse";

function c(
  conns: bigint,
  inPackets: bigint,
  outPackets: bigint,
  inBytes: bigint,
  outBytes: bigint,
): Counters {
  return { conns, inPackets, outPackets, inBytes, outBytes };
}

function r(cps: number, inPps: number, outPps: number, inBps: number, outBps: number): Rates {
  return { cps, inPps, outPps, inBps, outBps };
}

function service<T>(
  key: ServiceKey,
  values: T,
  realservers: Array<[string, number, T]>,
): CounterService<T> {
  return {
    key,
    values,
    approximate: false,
    realservers: realservers.map(([address, port, v]) => ({
      address,
      port,
      values: v,
      approximate: false,
    })),
  };
}

const WEB: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 80 };
const ALT: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 8080 };
const TLS: ServiceKey = { kind: "tcp", address: "203.0.113.11", port: 443 };
const DNS: ServiceKey = { kind: "udp", address: "203.0.113.10", port: 53 };
const NTP: ServiceKey = { kind: "udp", address: "203.0.113.10", port: 123 };
const V6: ServiceKey = { kind: "tcp", address: "2001:db8:100::10", port: 80 };
const FWM: ServiceKey = { kind: "fwm", mark: 1, family: "inet" };

/** Both stats fixtures agree on every service but the IPv6 one (read moments apart). */
function statsExpected(v6: {
  total: Counters;
  rs11: Counters;
  rs12: Counters;
}): Array<CounterService<Counters>> {
  return [
    service(WEB, c(43n, 290n, 236n, 18862n, 20009n), [
      ["10.10.0.11", 80, c(13n, 87n, 72n, 5667n, 6087n)],
      ["10.10.0.12", 80, c(13n, 89n, 70n, 5771n, 5983n)],
      ["10.10.0.13", 80, c(17n, 114n, 94n, 7424n, 7939n)],
    ]),
    service(ALT, c(38n, 261n, 208n, 16911n, 18324n), [
      ["10.10.0.11", 80, c(23n, 162n, 125n, 10394n, 11059n)],
      ["10.10.0.12", 80, c(15n, 99n, 83n, 6517n, 7265n)],
      ["10.10.0.13", 80, c(0n, 0n, 0n, 0n, 0n)],
    ]),
    service(TLS, c(2n, 2n, 4n, 120n, 296n), [
      ["10.10.0.13", 443, c(0n, 0n, 0n, 0n, 0n)],
      ["10.10.0.14", 443, c(0n, 0n, 0n, 0n, 0n)],
      ["10.10.0.15", 443, c(2n, 2n, 4n, 120n, 296n)],
    ]),
    service(DNS, c(33n, 33n, 33n, 990n, 1056n), [
      ["10.10.0.11", 53, c(14n, 14n, 14n, 420n, 448n)],
      ["10.10.0.12", 53, c(19n, 19n, 19n, 570n, 608n)],
    ]),
    service(NTP, c(0n, 0n, 0n, 0n, 0n), [["10.10.0.13", 123, c(0n, 0n, 0n, 0n, 0n)]]),
    service(V6, v6.total, [
      ["2001:db8:200::11", 80, v6.rs11],
      ["2001:db8:200::12", 80, v6.rs12],
    ]),
    service(FWM, c(33n, 216n, 180n, 14004n, 16587n), [
      ["10.10.0.11", 80, c(17n, 113n, 91n, 7304n, 8455n)],
      ["10.10.0.12", 80, c(16n, 103n, 89n, 6700n, 8132n)],
    ]),
  ];
}

describe("parseStats on real output", () => {
  it("reads every counter of ipvsadm -Ln --exact --stats", () => {
    expect(parseStats(fixture("ipvsadm-Ln--exact--stats.txt"))).toEqual({
      services: statsExpected({
        total: c(4n, 25n, 23n, 2160n, 2532n),
        rs11: c(2n, 12n, 12n, 1044n, 1302n),
        rs12: c(2n, 13n, 11n, 1116n, 1230n),
      }),
    });
  });

  it("reads every counter of ipvsadm -Ln --stats (all small enough to be exact)", () => {
    expect(parseStats(fixture("ipvsadm-Ln--stats.txt"))).toEqual({
      services: statsExpected({
        total: c(1n, 6n, 6n, 522n, 651n),
        rs11: c(0n, 0n, 0n, 0n, 0n),
        rs12: c(1n, 6n, 6n, 522n, 651n),
      }),
    });
  });
});

describe("parseStats on large values", () => {
  const header =
    "IP Virtual Server version 1.2.1 (size=4096)\n" +
    "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
    "  -> RemoteAddress:Port\n";

  it("keeps 64-bit counters beyond 2^53 exact as bigint", () => {
    const text =
      header +
      "TCP  203.0.113.10:80       9007199254740993 18446744073709551615 18446744073709551614 18446744073709551615 1\n" +
      "  -> 10.10.0.11:80         9007199254740993 18446744073709551615 18446744073709551614 18446744073709551615 1\n";
    const huge = c(
      9007199254740993n,
      18446744073709551615n,
      18446744073709551614n,
      18446744073709551615n,
      1n,
    );
    expect(parseStats(text)).toEqual({
      services: [service(WEB, huge, [["10.10.0.11", 80, huge]])],
    });
  });

  it("reads K/M/G/T abbreviations as lower bounds and marks the row approximate", () => {
    const text =
      header +
      "TCP  203.0.113.10:80             123K     4567M    12G     99999999  7T\n" +
      "  -> 10.10.0.11:80               100      200      300     400       500\n";
    expect(parseStats(text)).toEqual({
      services: [
        {
          key: WEB,
          values: c(123000n, 4567000000n, 12000000000n, 99999999n, 7000000000000n),
          approximate: true,
          realservers: [
            {
              address: "10.10.0.11",
              port: 80,
              values: c(100n, 200n, 300n, 400n, 500n),
              approximate: false,
            },
          ],
        },
      ],
    });
  });

  it("reads an IPv6 firewall-mark service line", () => {
    const text = header + "FWM  9 IPv6                  1 2 3 4 5\n";
    expect(parseStats(text)).toEqual({
      services: [service({ kind: "fwm", mark: 9, family: "inet6" }, c(1n, 2n, 3n, 4n, 5n), [])],
    });
  });

  it.each([
    ["a missing column", "TCP  203.0.113.10:80  1 2 3 4\n", 4, "TCP  203.0.113.10:80  1 2 3 4"],
    [
      "a negative counter",
      "TCP  203.0.113.10:80  1 2 3 4 -5\n",
      4,
      "TCP  203.0.113.10:80  1 2 3 4 -5",
    ],
    [
      "an unknown suffix",
      "TCP  203.0.113.10:80  1 2 3 4 5P\n",
      4,
      "TCP  203.0.113.10:80  1 2 3 4 5P",
    ],
    [
      "a realserver before any service",
      "  -> 10.10.0.11:80  1 2 3 4 5\n",
      4,
      "  -> 10.10.0.11:80  1 2 3 4 5",
    ],
    ["a garbage line", "nonsense\n", 4, "nonsense"],
  ])("refuses %s", (_name, body, lineNumber, line) => {
    expect(parseErrorOf(() => parseStats(header + body))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -Ln --stats",
      lineNumber,
      line,
    });
  });

  it("refuses empty output and a plain listing", () => {
    expect(parseErrorOf(() => parseStats(""))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 1,
      line: "",
    });
    expect(parseErrorOf(() => parseStats(fixture("ipvsadm-Ln.txt")))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 2,
      line: "Prot LocalAddress:Port Scheduler Flags",
    });
  });
});

describe("parseRate on real output", () => {
  it("reads every rate of ipvsadm -Ln --exact --rate", () => {
    expect(parseRate(fixture("ipvsadm-Ln--exact--rate.txt"))).toEqual({
      services: [
        service(WEB, r(0, 1, 1, 50, 50), [
          ["10.10.0.11", 80, r(0, 0, 0, 15, 15)],
          ["10.10.0.12", 80, r(0, 0, 0, 15, 15)],
          ["10.10.0.13", 80, r(0, 0, 0, 20, 20)],
        ]),
        service(ALT, r(0, 0, 0, 19, 20), [
          ["10.10.0.11", 80, r(0, 0, 0, 8, 9)],
          ["10.10.0.12", 80, r(0, 0, 0, 11, 11)],
          ["10.10.0.13", 80, r(0, 0, 0, 0, 0)],
        ]),
        service(TLS, r(0, 0, 0, 0, 0), [
          ["10.10.0.13", 443, r(0, 0, 0, 0, 0)],
          ["10.10.0.14", 443, r(0, 0, 0, 0, 0)],
          ["10.10.0.15", 443, r(0, 0, 0, 0, 0)],
        ]),
        service(DNS, r(1, 1, 1, 25, 27), [
          ["10.10.0.11", 53, r(0, 0, 0, 9, 10)],
          ["10.10.0.12", 53, r(1, 1, 1, 15, 17)],
        ]),
        service(NTP, r(0, 0, 0, 0, 0), [["10.10.0.13", 123, r(0, 0, 0, 0, 0)]]),
        service(V6, r(0, 2, 2, 205, 235), [
          ["2001:db8:200::11", 80, r(0, 1, 1, 130, 163)],
          ["2001:db8:200::12", 80, r(0, 1, 1, 74, 72)],
        ]),
        service(FWM, r(0, 0, 0, 15, 18), [
          ["10.10.0.11", 80, r(0, 0, 0, 7, 8)],
          ["10.10.0.12", 80, r(0, 0, 0, 8, 10)],
        ]),
      ],
    });
  });

  it("reads every rate of ipvsadm -Ln --rate", () => {
    expect(parseRate(fixture("ipvsadm-Ln--rate.txt"))).toEqual({
      services: [
        service(WEB, r(0, 1, 1, 67, 67), [
          ["10.10.0.11", 80, r(0, 0, 0, 20, 20)],
          ["10.10.0.12", 80, r(0, 0, 0, 20, 20)],
          ["10.10.0.13", 80, r(0, 1, 1, 27, 27)],
        ]),
        service(ALT, r(0, 0, 0, 26, 27), [
          ["10.10.0.11", 80, r(0, 0, 0, 11, 12)],
          ["10.10.0.12", 80, r(0, 0, 0, 15, 15)],
          ["10.10.0.13", 80, r(0, 0, 0, 0, 0)],
        ]),
        service(TLS, r(0, 0, 0, 0, 0), [
          ["10.10.0.13", 443, r(0, 0, 0, 0, 0)],
          ["10.10.0.14", 443, r(0, 0, 0, 0, 0)],
          ["10.10.0.15", 443, r(0, 0, 0, 0, 0)],
        ]),
        service(DNS, r(1, 1, 1, 33, 36), [
          ["10.10.0.11", 53, r(0, 0, 0, 13, 14)],
          ["10.10.0.12", 53, r(1, 1, 1, 21, 23)],
        ]),
        service(NTP, r(0, 0, 0, 0, 0), [["10.10.0.13", 123, r(0, 0, 0, 0, 0)]]),
        service(V6, r(0, 0, 0, 0, 0), [
          ["2001:db8:200::11", 80, r(0, 0, 0, 0, 0)],
          ["2001:db8:200::12", 80, r(0, 0, 0, 0, 0)],
        ]),
        service(FWM, r(0, 0, 0, 20, 24), [
          ["10.10.0.11", 80, r(0, 0, 0, 9, 11)],
          ["10.10.0.12", 80, r(0, 0, 0, 10, 13)],
        ]),
      ],
    });
  });

  it("reads abbreviated byte rates as approximate and refuses a rate beyond 2^53", () => {
    const header =
      "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n" +
      "  -> RemoteAddress:Port\n";
    expect(parseRate(header + "TCP  203.0.113.10:80  5 6 7 150M 2G\n")).toEqual({
      services: [
        { key: WEB, values: r(5, 6, 7, 150000000, 2000000000), approximate: true, realservers: [] },
      ],
    });
    expect(
      parseErrorOf(() => parseRate(header + "TCP  203.0.113.10:80  0 0 0 0 9007199254740993\n")),
    ).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -Ln --rate",
      lineNumber: 3,
    });
  });
});
