import { describe, expect, it } from "vitest";
import { type ForwardMethod } from "@/server/ipvs/model";
import { type ListedRealserver, type ListedService, parseList } from "./list";
import { fixture, parseErrorOf } from "@/test/support/parse";

/** A realserver row of the plain listing: forward and weight, no thresholds or templates. */
function plain(
  address: string,
  port: number,
  forward: ForwardMethod,
  weight: number,
  activeConns: number,
  inactiveConns: number,
): ListedRealserver {
  return {
    address,
    port,
    forward,
    weight,
    upperThreshold: null,
    lowerThreshold: null,
    tunnel: null,
    activeConns,
    inactiveConns,
    persistentConns: null,
  };
}

/** A realserver row of --persistent-conn: weight and PersistConn, no forward column. */
function persist(
  address: string,
  port: number,
  weight: number,
  persistentConns: number,
  activeConns: number,
  inactiveConns: number,
): ListedRealserver {
  return {
    address,
    port,
    forward: null,
    weight,
    upperThreshold: null,
    lowerThreshold: null,
    tunnel: null,
    activeConns,
    inactiveConns,
    persistentConns,
  };
}

const RULE_DEFAULTS = { persistence: null, ops: false, schedFlags: [], pe: null };

/** The seven services of the lab, with the realservers each view prints. */
function labServices(rs: {
  web: ListedRealserver[];
  alt: ListedRealserver[];
  tls: ListedRealserver[];
  dns: ListedRealserver[];
  ntp: ListedRealserver[];
  v6: ListedRealserver[];
  fwm: ListedRealserver[];
}): ListedService[] {
  return [
    {
      ...RULE_DEFAULTS,
      key: { kind: "tcp", address: "203.0.113.10", port: 80 },
      scheduler: "rr",
      persistence: { timeout: 300, netmask: null },
      realservers: rs.web,
    },
    {
      ...RULE_DEFAULTS,
      key: { kind: "tcp", address: "203.0.113.10", port: 8080 },
      scheduler: "wrr",
      realservers: rs.alt,
    },
    {
      ...RULE_DEFAULTS,
      key: { kind: "tcp", address: "203.0.113.11", port: 443 },
      scheduler: "wlc",
      persistence: { timeout: 120, netmask: "255.255.255.0" },
      realservers: rs.tls,
    },
    {
      ...RULE_DEFAULTS,
      key: { kind: "udp", address: "203.0.113.10", port: 53 },
      scheduler: "sh",
      schedFlags: ["sh-fallback", "sh-port"],
      realservers: rs.dns,
    },
    {
      ...RULE_DEFAULTS,
      key: { kind: "udp", address: "203.0.113.10", port: 123 },
      scheduler: "rr",
      ops: true,
      realservers: rs.ntp,
    },
    {
      ...RULE_DEFAULTS,
      key: { kind: "tcp", address: "2001:db8:100::10", port: 80 },
      scheduler: "rr",
      realservers: rs.v6,
    },
    {
      ...RULE_DEFAULTS,
      key: { kind: "fwm", mark: 1, family: "inet" },
      scheduler: "mh",
      schedFlags: ["mh-fallback", "mh-port"],
      realservers: rs.fwm,
    },
  ];
}

describe("parseList on real ipvsadm -Ln output", () => {
  it("reads every service and realserver of the busy director", () => {
    expect(parseList(fixture("ipvsadm-Ln.txt"))).toEqual({
      variant: "plain",
      ipvsVersion: "1.2.1",
      tableSize: 4096,
      services: labServices({
        web: [
          plain("10.10.0.11", 80, "masq", 1, 3, 10),
          plain("10.10.0.12", 80, "masq", 1, 3, 10),
          plain("10.10.0.13", 80, "masq", 1, 4, 13),
        ],
        alt: [
          plain("10.10.0.11", 80, "masq", 3, 1, 22),
          plain("10.10.0.12", 80, "masq", 2, 2, 13),
          plain("10.10.0.13", 80, "masq", 0, 0, 0),
        ],
        tls: [
          plain("10.10.0.13", 443, "masq", 2, 0, 0),
          plain("10.10.0.14", 443, "route", 1, 0, 0),
          plain("10.10.0.15", 443, "tunnel", 1, 2, 0),
        ],
        dns: [plain("10.10.0.11", 53, "masq", 1, 0, 14), plain("10.10.0.12", 53, "masq", 1, 0, 19)],
        ntp: [plain("10.10.0.13", 123, "masq", 1, 0, 0)],
        v6: [
          plain("2001:db8:200::11", 80, "masq", 1, 0, 2),
          plain("2001:db8:200::12", 80, "masq", 1, 0, 2),
        ],
        fwm: [plain("10.10.0.11", 80, "masq", 1, 0, 17), plain("10.10.0.12", 80, "masq", 1, 0, 16)],
      }),
    });
  });

  it("shows the drained realserver with weight 0 and its connections still counted", () => {
    expect(parseList(fixture("ipvsadm-Ln.drain.txt"))).toEqual({
      variant: "plain",
      ipvsVersion: "1.2.1",
      tableSize: 4096,
      services: labServices({
        web: [
          plain("10.10.0.11", 80, "masq", 0, 3, 10),
          plain("10.10.0.12", 80, "masq", 1, 3, 10),
          plain("10.10.0.13", 80, "masq", 1, 4, 13),
        ],
        alt: [
          plain("10.10.0.11", 80, "masq", 3, 1, 22),
          plain("10.10.0.12", 80, "masq", 2, 2, 13),
          plain("10.10.0.13", 80, "masq", 0, 0, 0),
        ],
        tls: [
          plain("10.10.0.13", 443, "masq", 2, 0, 0),
          plain("10.10.0.14", 443, "route", 1, 0, 0),
          plain("10.10.0.15", 443, "tunnel", 1, 0, 0),
        ],
        dns: [plain("10.10.0.11", 53, "masq", 1, 0, 14), plain("10.10.0.12", 53, "masq", 1, 0, 19)],
        ntp: [plain("10.10.0.13", 123, "masq", 1, 0, 0)],
        v6: [
          plain("2001:db8:200::11", 80, "masq", 1, 0, 2),
          plain("2001:db8:200::12", 80, "masq", 1, 0, 2),
        ],
        fwm: [plain("10.10.0.11", 80, "masq", 1, 0, 17), plain("10.10.0.12", 80, "masq", 1, 0, 16)],
      }),
    });
  });

  it("reads --persistent-conn: weight and PersistConn, no forwarding column", () => {
    expect(parseList(fixture("ipvsadm-Ln--persistent-conn.txt"))).toEqual({
      variant: "persistent-conn",
      ipvsVersion: "1.2.1",
      tableSize: 4096,
      services: labServices({
        web: [
          persist("10.10.0.11", 80, 1, 3, 3, 10),
          persist("10.10.0.12", 80, 1, 3, 3, 10),
          persist("10.10.0.13", 80, 1, 4, 4, 13),
        ],
        alt: [
          persist("10.10.0.11", 80, 3, 0, 1, 22),
          persist("10.10.0.12", 80, 2, 0, 2, 13),
          persist("10.10.0.13", 80, 0, 0, 0, 0),
        ],
        tls: [
          persist("10.10.0.13", 443, 2, 0, 0, 0),
          persist("10.10.0.14", 443, 1, 0, 0, 0),
          persist("10.10.0.15", 443, 1, 1, 2, 0),
        ],
        dns: [persist("10.10.0.11", 53, 1, 0, 0, 14), persist("10.10.0.12", 53, 1, 0, 0, 19)],
        ntp: [persist("10.10.0.13", 123, 1, 0, 0, 0)],
        v6: [
          persist("2001:db8:200::11", 80, 1, 0, 0, 2),
          persist("2001:db8:200::12", 80, 1, 0, 0, 2),
        ],
        fwm: [persist("10.10.0.11", 80, 1, 0, 0, 17), persist("10.10.0.12", 80, 1, 0, 0, 16)],
      }),
    });
  });

  it("reads --persistent-conn after the drain: weight 0, templates still pinned", () => {
    expect(parseList(fixture("ipvsadm-Ln--persistent-conn.drain.txt"))).toEqual({
      variant: "persistent-conn",
      ipvsVersion: "1.2.1",
      tableSize: 4096,
      services: labServices({
        web: [
          persist("10.10.0.11", 80, 0, 3, 3, 10),
          persist("10.10.0.12", 80, 1, 3, 3, 10),
          persist("10.10.0.13", 80, 1, 4, 4, 13),
        ],
        alt: [
          persist("10.10.0.11", 80, 3, 0, 1, 22),
          persist("10.10.0.12", 80, 2, 0, 2, 13),
          persist("10.10.0.13", 80, 0, 0, 0, 0),
        ],
        tls: [
          persist("10.10.0.13", 443, 2, 0, 0, 0),
          persist("10.10.0.14", 443, 1, 0, 0, 0),
          persist("10.10.0.15", 443, 1, 1, 0, 0),
        ],
        dns: [persist("10.10.0.11", 53, 1, 0, 0, 14), persist("10.10.0.12", 53, 1, 0, 0, 19)],
        ntp: [persist("10.10.0.13", 123, 1, 0, 0, 0)],
        v6: [
          persist("2001:db8:200::11", 80, 1, 0, 0, 2),
          persist("2001:db8:200::12", 80, 1, 0, 0, 2),
        ],
        fwm: [persist("10.10.0.11", 80, 1, 0, 0, 17), persist("10.10.0.12", 80, 1, 0, 0, 16)],
      }),
    });
  });

  it("reads a weight of 2147483647 that pushes the other columns out of line (errors.md)", () => {
    // Verbatim from errors.md, "weight upper bound": ipvsadm -Ln -t 203.0.113.10:80.
    const text = [
      "Prot LocalAddress:Port Scheduler Flags",
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
      "TCP  203.0.113.10:80 rr persistent 300",
      "  -> 10.10.0.11:80                Masq    1      0          0         ",
      "  -> 10.10.0.12:80                Masq    2147483647 0          20        ",
      "  -> 10.10.0.13:80                Masq    1      0          20        ",
      "",
    ].join("\n");
    expect(parseList(text)).toEqual({
      variant: "plain",
      ipvsVersion: null,
      tableSize: null,
      services: [
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "203.0.113.10", port: 80 },
          scheduler: "rr",
          persistence: { timeout: 300, netmask: null },
          realservers: [
            plain("10.10.0.11", 80, "masq", 1, 0, 0),
            plain("10.10.0.12", 80, "masq", 2147483647, 0, 20),
            plain("10.10.0.13", 80, "masq", 1, 0, 20),
          ],
        },
      ],
    });
  });

  it("accepts Windows line endings and blank trailing lines", () => {
    const crlf = fixture("ipvsadm-Ln.txt").replaceAll("\n", "\r\n") + "\r\n\r\n";
    expect(parseList(crlf)).toEqual(parseList(fixture("ipvsadm-Ln.txt")));
  });

  it("lists no service on an empty table", () => {
    const text =
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
      "Prot LocalAddress:Port Scheduler Flags\n" +
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
    expect(parseList(text)).toEqual({
      variant: "plain",
      ipvsVersion: "1.2.1",
      tableSize: 4096,
      services: [],
    });
  });
});

describe("parseList on service lines the lab does not have", () => {
  const header =
    "Prot LocalAddress:Port Scheduler Flags\n" +
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";

  it("reads an IPv6 firewall-mark service, a persistence engine, SCTP and an IPv6 mask", () => {
    const text =
      header +
      "FWM  7 IPv6 rr\n" +
      "  -> [2001:db8:200::11]:80        Route   5      1          2         \n" +
      "UDP  203.0.113.20:5060 rr persistent 60 pe sip\n" +
      "SCTP  203.0.113.21:3868 sed\n" +
      "TCP  [2001:db8:100::20]:443 lc persistent 900 mask 64 ops\n" +
      "FWM  4294967295 wlc\n";
    expect(parseList(text).services).toEqual([
      {
        ...RULE_DEFAULTS,
        key: { kind: "fwm", mark: 7, family: "inet6" },
        scheduler: "rr",
        realservers: [plain("2001:db8:200::11", 80, "route", 5, 1, 2)],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "udp", address: "203.0.113.20", port: 5060 },
        scheduler: "rr",
        persistence: { timeout: 60, netmask: null },
        pe: "sip",
        realservers: [],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "sctp", address: "203.0.113.21", port: 3868 },
        scheduler: "sed",
        realservers: [],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "tcp", address: "2001:db8:100::20", port: 443 },
        scheduler: "lc",
        persistence: { timeout: 900, netmask: 64 },
        ops: true,
        realservers: [],
      },
      {
        ...RULE_DEFAULTS,
        key: { kind: "fwm", mark: 4294967295, family: "inet" },
        scheduler: "wlc",
        realservers: [],
      },
    ]);
  });

  it("reads --thresholds (format from ipvsadm.c print_service_entry)", () => {
    const text =
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
      "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n" +
      "  -> RemoteAddress:Port\n" +
      "TCP  203.0.113.10:80 rr persistent 300\n" +
      "  -> 10.10.0.11:80                0          0          3          10        \n" +
      "  -> 10.10.0.12:80                100        50         3          10        \n" +
      "  -> 10.10.0.13:80                4294967295 4294967295 4          13        \n";
    const threshold = (
      address: string,
      upperThreshold: number,
      lowerThreshold: number,
      activeConns: number,
      inactiveConns: number,
    ): ListedRealserver => ({
      address,
      port: 80,
      forward: null,
      weight: null,
      upperThreshold,
      lowerThreshold,
      tunnel: null,
      activeConns,
      inactiveConns,
      persistentConns: null,
    });
    expect(parseList(text)).toEqual({
      variant: "thresholds",
      ipvsVersion: "1.2.1",
      tableSize: 4096,
      services: [
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "203.0.113.10", port: 80 },
          scheduler: "rr",
          persistence: { timeout: 300, netmask: null },
          realservers: [
            threshold("10.10.0.11", 0, 0, 3, 10),
            threshold("10.10.0.12", 100, 50, 3, 10),
            threshold("10.10.0.13", 4294967295, 4294967295, 4, 13),
          ],
        },
      ],
    });
  });

  it("reads --tun-info: tunnel type, port and checksum of each tunnelled member", () => {
    const text =
      "Prot LocalAddress:Port Scheduler Flags\n" +
      "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n" +
      "TCP  203.0.113.11:443 wlc\n" +
      "  -> 10.10.0.13:443               Masq    n/a           2      0          0         \n" +
      "  -> 10.10.0.15:443               Tunnel  ipip          1      2          0         \n" +
      "  -> 10.10.0.16:443               Tunnel  gue:6080:-c   1      0          1         \n" +
      "  -> 10.10.0.17:443               Tunnel  gre:+c        1      0          0         \n";
    expect(parseList(text).services[0]?.realservers).toEqual([
      { ...plain("10.10.0.13", 443, "masq", 2, 0, 0), tunnel: null },
      {
        ...plain("10.10.0.15", 443, "tunnel", 1, 2, 0),
        tunnel: { type: "ipip", port: null, noChecksum: false },
      },
      {
        ...plain("10.10.0.16", 443, "tunnel", 1, 0, 1),
        tunnel: { type: "gue", port: 6080, noChecksum: true },
      },
      {
        ...plain("10.10.0.17", 443, "tunnel", 1, 0, 0),
        tunnel: { type: "gre", port: null, noChecksum: false },
      },
    ]);
  });

  it("maps the kernel's Local forwarding to route, as ipvsadm -S saves it (-g)", () => {
    const text = header + "TCP  203.0.113.10:80 rr\n  -> 127.0.0.1:80 Local 1 0 0\n";
    expect(parseList(text).services[0]?.realservers).toEqual([
      plain("127.0.0.1", 80, "route", 1, 0, 0),
    ]);
  });
});

describe("parseList refuses what it does not understand, naming the line", () => {
  const header =
    "IP Virtual Server version 1.2.1 (size=4096)\n" +
    "Prot LocalAddress:Port Scheduler Flags\n" +
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  const service = "TCP  203.0.113.10:80 rr\n";

  it.each([
    ["a garbage line", service + "hello world\n", 5, "hello world"],
    [
      "a truncated realserver line",
      service + "  -> 10.10.0.11:80  Masq    1\n",
      5,
      "  -> 10.10.0.11:80  Masq    1",
    ],
    ["an unknown protocol", "ICMP  203.0.113.10:80 rr\n", 4, "ICMP  203.0.113.10:80 rr"],
    ["a bad address", "TCP  203.0.113.300:80 rr\n", 4, "TCP  203.0.113.300:80 rr"],
    ["a port out of range", "TCP  203.0.113.10:65536 rr\n", 4, "TCP  203.0.113.10:65536 rr"],
    [
      "a non-numeric weight",
      service + "  -> 10.10.0.11:80  Masq  heavy  0  0\n",
      5,
      "  -> 10.10.0.11:80  Masq  heavy  0  0",
    ],
    [
      "a negative weight",
      service + "  -> 10.10.0.11:80  Masq  -1  0  0\n",
      5,
      "  -> 10.10.0.11:80  Masq  -1  0  0",
    ],
    [
      "a weight above 2147483647",
      service + "  -> 10.10.0.11:80 Masq 2147483648 0 0\n",
      5,
      "  -> 10.10.0.11:80 Masq 2147483648 0 0",
    ],
    [
      "an unknown forwarding method",
      service + "  -> 10.10.0.11:80 Nat 1 0 0\n",
      5,
      "  -> 10.10.0.11:80 Nat 1 0 0",
    ],
    [
      "an extra column",
      service + "  -> 10.10.0.11:80 Masq 1 0 0 inhibited\n",
      5,
      "  -> 10.10.0.11:80 Masq 1 0 0 inhibited",
    ],
    [
      "a realserver line before any service",
      "  -> 10.10.0.11:80  Masq  1  0  0\n",
      4,
      "  -> 10.10.0.11:80  Masq  1  0  0",
    ],
    ["an unknown scheduler", "TCP  203.0.113.10:80 twos\n", 4, "TCP  203.0.113.10:80 twos"],
    [
      "an unknown service flag",
      "TCP  203.0.113.10:80 rr synproxy\n",
      4,
      "TCP  203.0.113.10:80 rr synproxy",
    ],
    [
      "an unknown scheduler flag",
      "TCP  203.0.113.10:80 rr (flag-1)\n",
      4,
      "TCP  203.0.113.10:80 rr (flag-1)",
    ],
  ])("%s", (_name, body, lineNumber, line) => {
    expect(parseErrorOf(() => parseList(header + body))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -Ln",
      lineNumber,
      line,
    });
  });

  it("counts lines from 1 with CRLF endings too", () => {
    const text = (header + service + "garbage\n").replaceAll("\n", "\r\n");
    expect(parseErrorOf(() => parseList(text))).toMatchObject({ lineNumber: 5, line: "garbage" });
  });

  it("reads a port-0 member of a mark service (ipvsadm's -r without a port)", () => {
    const text = header + "FWM  1 rr\n  -> 10.10.0.11:0  Route  1  0  0\n";
    const [service] = parseList(text).services;
    expect(service?.key).toEqual({ kind: "fwm", mark: 1, family: "inet" });
    expect(service?.realservers).toMatchObject([
      {
        address: "10.10.0.11",
        port: 0,
        forward: "route",
        weight: 1,
        activeConns: 0,
        inactiveConns: 0,
      },
    ]);
  });

  it("refuses empty output", () => {
    expect(parseErrorOf(() => parseList(""))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -Ln",
      lineNumber: 1,
      line: "",
    });
    expect(parseErrorOf(() => parseList("\n\n"))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 1,
    });
  });

  it("refuses --stats output, whose title it does not know", () => {
    expect(parseErrorOf(() => parseList(fixture("ipvsadm-Ln--stats.txt")))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 2,
      line: "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
    });
  });

  it("refuses a title without its realserver title", () => {
    expect(parseErrorOf(() => parseList("Prot LocalAddress:Port Scheduler Flags\n"))).toMatchObject(
      {
        code: "PARSE_ERROR",
        lineNumber: 2,
        line: "",
      },
    );
  });

  it("refuses a tunnel with remote checksum offload, which the model cannot hold", () => {
    const text =
      "Prot LocalAddress:Port Scheduler Flags\n" +
      "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n" +
      "TCP  203.0.113.11:443 wlc\n" +
      "  -> 10.10.0.16:443               Tunnel  gue:6080:r+c  1      0          1\n";
    expect(parseErrorOf(() => parseList(text))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 4,
    });
  });
});
