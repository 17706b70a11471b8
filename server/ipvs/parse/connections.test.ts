import { describe, expect, it } from "vitest";
import { type ConnectionEntry, formatEndpoint } from "@/server/ipvs/model";
import { parseConnections, parseProcConnections } from "./connections";
import { fixture, parseErrorOf } from "@/test/support/parse";

/** One line per entry: `TCP 895 ESTABLISHED 203.0.113.109:47802 203.0.113.10:80 10.10.0.13:80 t=0`. */
function summary(entry: ConnectionEntry): string {
  const endpoints = [entry.client, entry.virtual, entry.destination].map(formatEndpoint).join(" ");
  return `${entry.protocol} ${entry.expiresSeconds} ${entry.state} ${endpoints} t=${entry.template ? 1 : 0}`;
}

/** The data rows of a fixture, split on blanks, without the title lines. */
function rows(text: string, titleLines: number): string[][] {
  return text
    .split("\n")
    .slice(titleLines)
    .filter((line) => line.trim() !== "")
    .map((line) => line.trim().split(/\s+/));
}

/** The expected summary straight from ipvsadm's text: mm:ss to seconds, addresses as printed. */
function expectedFromListing(text: string): string[] {
  return rows(text, 2).map(([protocol, expire, state, client, virtual, destination]) => {
    const [minutes, seconds] = (expire ?? "").split(":").map(Number);
    const template = client?.endsWith(":0") ? 1 : 0;
    return `${protocol} ${(minutes ?? NaN) * 60 + (seconds ?? NaN)} ${state} ${client} ${virtual} ${destination} t=${template}`;
  });
}

/** The IPv6 addresses of the lab, as the kernel writes them in full and as ipvsadm shows them. */
const IPV6_BY_HEX: Record<string, string> = {
  "2001:0db8:0100:0000:0000:0000:0000:0100": "2001:db8:100::100",
  "2001:0db8:0100:0000:0000:0000:0000:0010": "2001:db8:100::10",
  "2001:0db8:0200:0000:0000:0000:0000:0011": "2001:db8:200::11",
  "2001:0db8:0200:0000:0000:0000:0000:0012": "2001:db8:200::12",
};

function expectedFromProc(text: string): string[] {
  const endpoint = (hex: string | undefined, port: string | undefined): string => {
    const p = Number.parseInt(port ?? "", 16);
    const v6 = IPV6_BY_HEX[hex ?? ""];
    if (v6 !== undefined) return `[${v6}]:${p}`;
    return `${Array.from(Buffer.from(hex ?? "", "hex")).join(".")}:${p}`;
  };
  return rows(text, 1).map(([protocol, ca, cp, va, vp, da, dp, state, expires]) => {
    const template = Number.parseInt(cp ?? "", 16) === 0 ? 1 : 0;
    return `${protocol} ${expires} ${state} ${endpoint(ca, cp)} ${endpoint(va, vp)} ${endpoint(da, dp)} t=${template}`;
  });
}

function entry(
  protocol: ConnectionEntry["protocol"],
  expiresSeconds: number,
  state: string,
  client: [string, number],
  virtual: [string, number],
  destination: [string, number],
  template: boolean,
): ConnectionEntry {
  return {
    protocol,
    expiresSeconds,
    state,
    client: { address: client[0], port: client[1] },
    virtual: { address: virtual[0], port: virtual[1] },
    destination: { address: destination[0], port: destination[1] },
    template,
    pe: null,
  };
}

describe("parseConnections on real ipvsadm -Lnc output", () => {
  const text = fixture("ipvsadm-Lnc.txt");
  const entries = parseConnections(text);

  it("reads all 164 entries, each field as ipvsadm printed it", () => {
    expect(entries).toHaveLength(164);
    expect(entries.map(summary)).toEqual(expectedFromListing(text));
    expect(entries.every((e) => e.pe === null)).toBe(true);
  });

  it("reads UDP, ESTABLISHED, SYN_RECV, IPv6, templates and fwmark entries exactly", () => {
    expect(entries[0]).toEqual(
      entry(
        "UDP",
        280,
        "UDP",
        ["203.0.113.103", 35009],
        ["203.0.113.10", 53],
        ["10.10.0.11", 53],
        false,
      ),
    );
    expect(entries[1]).toEqual(
      entry(
        "TCP",
        895,
        "ESTABLISHED",
        ["203.0.113.109", 47802],
        ["203.0.113.10", 80],
        ["10.10.0.13", 80],
        false,
      ),
    );
    // FWM 1: the virtual column is the packet's real destination, 203.0.113.12:80.
    expect(entries[2]).toEqual(
      entry(
        "TCP",
        83,
        "TIME_WAIT",
        ["203.0.113.104", 55742],
        ["203.0.113.12", 80],
        ["10.10.0.12", 80],
        false,
      ),
    );
    expect(entries[11]).toEqual(
      entry(
        "TCP",
        71,
        "TIME_WAIT",
        ["203.0.113.102", 55396],
        ["203.0.113.10", 8080],
        ["10.10.0.12", 80],
        false,
      ),
    );
    expect(entries[17]).toEqual(
      entry(
        "TCP",
        0,
        "SYN_RECV",
        ["203.0.113.100", 41754],
        ["203.0.113.11", 443],
        ["10.10.0.15", 443],
        false,
      ),
    );
    expect(entries[19]).toEqual(
      entry(
        "TCP",
        248,
        "ASSURED",
        ["203.0.113.109", 0],
        ["203.0.113.10", 80],
        ["10.10.0.13", 80],
        true,
      ),
    );
    expect(entries[33]).toEqual(
      entry(
        "TCP",
        117,
        "TIME_WAIT",
        ["2001:db8:100::100", 38222],
        ["2001:db8:100::10", 80],
        ["2001:db8:200::11", 80],
        false,
      ),
    );
    // Persistence with mask 255.255.255.0: one template for the whole client network.
    expect(entries[56]).toEqual(
      entry(
        "TCP",
        59,
        "NONE",
        ["203.0.113.0", 0],
        ["203.0.113.11", 443],
        ["10.10.0.15", 443],
        true,
      ),
    );
    expect(entries[79]).toEqual(
      entry(
        "TCP",
        0,
        "SYN_RECV",
        ["203.0.113.107", 50962],
        ["203.0.113.11", 443],
        ["10.10.0.15", 443],
        false,
      ),
    );
    expect(entries[163]).toEqual(
      entry(
        "TCP",
        67,
        "TIME_WAIT",
        ["203.0.113.107", 46056],
        ["203.0.113.10", 80],
        ["10.10.0.12", 80],
        false,
      ),
    );
  });

  it("counts entries by state as the fixture shows them", () => {
    const counts: Record<string, number> = {};
    for (const e of entries)
      counts[`${e.protocol} ${e.state}`] = (counts[`${e.protocol} ${e.state}`] ?? 0) + 1;
    expect(counts).toEqual({
      "TCP ASSURED": 10,
      "TCP ESTABLISHED": 13,
      "TCP NONE": 1,
      "TCP SYN_RECV": 2,
      "TCP TIME_WAIT": 105,
      "UDP UDP": 33,
    });
    expect(entries.filter((e) => e.template).map((e) => formatEndpoint(e.client))).toEqual([
      "203.0.113.109:0",
      "203.0.113.108:0",
      "203.0.113.101:0",
      "203.0.113.103:0",
      "203.0.113.0:0",
      "203.0.113.107:0",
      "203.0.113.105:0",
      "203.0.113.102:0",
      "203.0.113.100:0",
      "203.0.113.104:0",
      "203.0.113.106:0",
    ]);
  });

  it("reads the --persistent-conn form: the same entries a second later, pe columns empty", () => {
    const pc = fixture("ipvsadm-Lnc--persistent-conn.txt");
    const pcEntries = parseConnections(pc);
    expect(pcEntries.map(summary)).toEqual(expectedFromListing(pc));
    expect(pcEntries.every((e) => e.pe === null)).toBe(true);
    const withoutExpiry = (e: ConnectionEntry): ConnectionEntry => ({ ...e, expiresSeconds: 0 });
    expect(pcEntries.map(withoutExpiry)).toEqual(entries.map(withoutExpiry));
    expect(pcEntries[56]).toEqual(
      entry(
        "TCP",
        58,
        "NONE",
        ["203.0.113.0", 0],
        ["203.0.113.11", 443],
        ["10.10.0.15", 443],
        true,
      ),
    );
  });

  it("reads persistence-engine columns when a service uses --pe sip", () => {
    const sip =
      "IPVS connection entries\n" +
      "pro expire state       source             virtual            destination        pe name          pe_data\n" +
      "UDP 04:59  UDP         203.0.113.100:5060 203.0.113.20:5060  10.10.0.11:5060    sip              a84b4c76e66710\n" +
      "UDP 59:59  NONE        203.0.113.100:0    203.0.113.20:5060  10.10.0.11:5060    sip              a84b4c76e66710\n";
    expect(parseConnections(sip)).toEqual([
      {
        ...entry(
          "UDP",
          299,
          "UDP",
          ["203.0.113.100", 5060],
          ["203.0.113.20", 5060],
          ["10.10.0.11", 5060],
          false,
        ),
        pe: { name: "sip", data: "a84b4c76e66710" },
      },
      {
        ...entry(
          "UDP",
          3599,
          "NONE",
          ["203.0.113.100", 0],
          ["203.0.113.20", 5060],
          ["10.10.0.11", 5060],
          true,
        ),
        pe: { name: "sip", data: "a84b4c76e66710" },
      },
    ]);
  });

  it("accepts Windows line endings and an empty table", () => {
    expect(parseConnections(text.replaceAll("\n", "\r\n"))).toEqual(entries);
    const empty =
      "IPVS connection entries\npro expire state       source             virtual            destination\n";
    expect(parseConnections(empty)).toEqual([]);
  });

  const header =
    "IPVS connection entries\npro expire state       source             virtual            destination\n";
  it.each([
    ["a garbage line", "garbage\n", "garbage"],
    [
      "a truncated line",
      "TCP 01:23  TIME_WAIT   203.0.113.104:55742\n",
      "TCP 01:23  TIME_WAIT   203.0.113.104:55742",
    ],
    [
      "an unknown protocol",
      "ICMP 01:23 NONE 203.0.113.1:1 203.0.113.10:80 10.10.0.11:80\n",
      "ICMP 01:23 NONE 203.0.113.1:1 203.0.113.10:80 10.10.0.11:80",
    ],
    [
      "a bad address",
      "TCP 01:23 TIME_WAIT 203.0.113.1:1 203.0.113.256:80 10.10.0.11:80\n",
      "TCP 01:23 TIME_WAIT 203.0.113.1:1 203.0.113.256:80 10.10.0.11:80",
    ],
    [
      "a bad expiry",
      "TCP 1m23 TIME_WAIT 203.0.113.1:1 203.0.113.10:80 10.10.0.11:80\n",
      "TCP 1m23 TIME_WAIT 203.0.113.1:1 203.0.113.10:80 10.10.0.11:80",
    ],
  ])("refuses %s, naming the line", (_name, body, line) => {
    expect(parseErrorOf(() => parseConnections(header + body))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -Lnc",
      lineNumber: 3,
      line,
    });
  });

  it("refuses empty output", () => {
    expect(parseErrorOf(() => parseConnections(""))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 1,
      line: "",
    });
  });
});

describe("parseProcConnections on the real /proc/net/ip_vs_conn", () => {
  const text = fixture("proc-net-ip_vs_conn.txt");
  const entries = parseProcConnections(text);

  it("reads all 162 entries: hex addresses and ports, IPv6 canonicalised", () => {
    expect(entries).toHaveLength(162);
    expect(entries.map(summary)).toEqual(expectedFromProc(text));
  });

  it("reads a dozen entries exactly", () => {
    expect(entries[0]).toEqual(
      entry(
        "UDP",
        277,
        "UDP",
        ["203.0.113.103", 35009],
        ["203.0.113.10", 53],
        ["10.10.0.11", 53],
        false,
      ),
    );
    expect(entries[1]).toEqual(
      entry(
        "TCP",
        892,
        "ESTABLISHED",
        ["203.0.113.109", 47802],
        ["203.0.113.10", 80],
        ["10.10.0.13", 80],
        false,
      ),
    );
    expect(entries[2]).toEqual(
      entry(
        "TCP",
        81,
        "TIME_WAIT",
        ["203.0.113.104", 55742],
        ["203.0.113.12", 80],
        ["10.10.0.12", 80],
        false,
      ),
    );
    expect(entries[18]).toEqual(
      entry(
        "TCP",
        246,
        "ASSURED",
        ["203.0.113.109", 0],
        ["203.0.113.10", 80],
        ["10.10.0.13", 80],
        true,
      ),
    );
    expect(entries[32]).toEqual(
      entry(
        "TCP",
        114,
        "TIME_WAIT",
        ["2001:db8:100::100", 38222],
        ["2001:db8:100::10", 80],
        ["2001:db8:200::11", 80],
        false,
      ),
    );
    expect(entries[55]).toEqual(
      entry(
        "TCP",
        56,
        "NONE",
        ["203.0.113.0", 0],
        ["203.0.113.11", 443],
        ["10.10.0.15", 443],
        true,
      ),
    );
    expect(entries[83]).toEqual(
      entry(
        "TCP",
        41,
        "TIME_WAIT",
        ["2001:db8:100::100", 57552],
        ["2001:db8:100::10", 80],
        ["2001:db8:200::12", 80],
        false,
      ),
    );
  });

  it("agrees with ipvsadm -Lnc read moments earlier", () => {
    const listed = parseConnections(fixture("ipvsadm-Lnc.txt"));
    const key = (e: ConnectionEntry): string =>
      `${e.protocol} ${e.state} ${[e.client, e.virtual, e.destination].map(formatEndpoint).join(" ")}`;
    // The two SYN_RECV entries (0 s left in -Lnc) expired before /proc was read; every
    // other entry is in both, in the same hash-table order.
    expect(entries.map(key)).toEqual(listed.filter((e) => e.state !== "SYN_RECV").map(key));
    const listedByKey = new Map(listed.map((e) => [key(e), e.expiresSeconds]));
    for (const e of entries) {
      const earlier = listedByKey.get(key(e)) ?? -1;
      expect(earlier - e.expiresSeconds).toBeGreaterThanOrEqual(1);
      expect(earlier - e.expiresSeconds).toBeLessThanOrEqual(4);
    }
  });

  it("reads PEName and PEData when present", () => {
    const sip =
      "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
      "UDP CB007164 13C4 CB007114 13C4 0A0A000B 13C4 UDP             299 sip a84b4c76e66710\n";
    expect(parseProcConnections(sip)).toEqual([
      {
        ...entry(
          "UDP",
          299,
          "UDP",
          ["203.0.113.100", 5060],
          ["203.0.113.20", 5060],
          ["10.10.0.11", 5060],
          false,
        ),
        pe: { name: "sip", data: "a84b4c76e66710" },
      },
    ]);
  });

  it("reads a firewall-mark template (protocol IP, ports 0) and an invalidated one (port 65535)", () => {
    const proc =
      "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
      "IP  CB007165 0000 00000001 0000 0A0A000B 0000 NONE            280\n" +
      "TCP CB007165 0000 CB00710A FFFF 0A0A000B FFFF ASSURED          12\n";
    expect(parseProcConnections(proc)).toEqual([
      entry("IP", 280, "NONE", ["203.0.113.101", 0], ["0.0.0.1", 0], ["10.10.0.11", 0], true),
      entry(
        "TCP",
        12,
        "ASSURED",
        ["203.0.113.101", 0],
        ["203.0.113.10", 65535],
        ["10.10.0.11", 65535],
        true,
      ),
    ]);
  });

  const header =
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";
  it.each([
    ["a garbage line", "garbage\n", "garbage"],
    ["a truncated line", "TCP CB00716D BABA CB00710A 0050\n", "TCP CB00716D BABA CB00710A 0050"],
    [
      "an unknown protocol",
      "ICMP CB00716D BABA CB00710A 0050 0A0A000D 0050 NONE 1\n",
      "ICMP CB00716D BABA CB00710A 0050 0A0A000D 0050 NONE 1",
    ],
    [
      "a non-hex address",
      "TCP CB00716Z BABA CB00710A 0050 0A0A000D 0050 NONE 1\n",
      "TCP CB00716Z BABA CB00710A 0050 0A0A000D 0050 NONE 1",
    ],
    [
      "a short port",
      "TCP CB00716D BAB CB00710A 0050 0A0A000D 0050 NONE 1\n",
      "TCP CB00716D BAB CB00710A 0050 0A0A000D 0050 NONE 1",
    ],
    [
      "a non-numeric expiry",
      "TCP CB00716D BABA CB00710A 0050 0A0A000D 0050 NONE soon\n",
      "TCP CB00716D BABA CB00710A 0050 0A0A000D 0050 NONE soon",
    ],
  ])("refuses %s, naming the line", (_name, body, line) => {
    expect(parseErrorOf(() => parseProcConnections(header + body))).toMatchObject({
      code: "PARSE_ERROR",
      source: "/proc/net/ip_vs_conn",
      lineNumber: 2,
      line,
    });
  });

  it("refuses empty output and accepts CRLF", () => {
    expect(parseErrorOf(() => parseProcConnections(""))).toMatchObject({
      code: "PARSE_ERROR",
      lineNumber: 1,
    });
    expect(parseProcConnections(text.replaceAll("\n", "\r\n"))).toEqual(entries);
  });
});
