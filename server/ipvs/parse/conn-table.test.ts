import { describe, expect, it } from "vitest";
import { parseProcConnections } from "./connections";
import { connTableBytes, connTableEntry, parseConnTable, parseConnTableAsync } from "./conn-table";
import { fixture, parseErrorOf } from "@/test/support/parse";

const TEXT = fixture("proc-net-ip_vs_conn.txt");
const TITLE = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData";

const entries = (text: string) => {
  const table = parseConnTable(text);
  return Array.from({ length: table.size }, (_, i) => connTableEntry(table, i));
};

describe("parseConnTable (/proc/net/ip_vs_conn in columns)", () => {
  it("reads every entry of the lab's table exactly as the row parser does", () => {
    const table = parseConnTable(TEXT);
    expect(table.size).toBe(162);
    expect(entries(TEXT)).toEqual(parseProcConnections(TEXT));
  });

  it("interns addresses and states: a few distinct values for 162 entries", () => {
    const table = parseConnTable(TEXT);
    expect(new Set(table.addresses).size).toBe(table.addresses.length);
    expect(table.addresses.length).toBeLessThan(40);
    expect([...table.states].sort()).toEqual([
      "ASSURED",
      "ESTABLISHED",
      "NONE",
      "TIME_WAIT",
      "UDP",
    ]);
    // IPv6 keeps the kernel's text (for filters) and gets its display form.
    const v6 = table.addresses.indexOf("2001:0db8:0200:0000:0000:0000:0000:0011");
    expect(table.display[v6]).toBe("2001:db8:200::11");
    // 9 columns, 24 bytes per entry.
    expect(connTableBytes(table)).toBe(162 * 24);
  });

  it("keeps persistence-engine columns, every word of them", () => {
    const text = `${TITLE}\nUDP CB007167 13C4 CB00710A 13C4 0A0A000B 13C4 UDP             177 sip call 42@host\n`;
    expect(entries(text)[0]?.pe).toEqual({ name: "sip", data: "call 42@host" });
  });

  it("accepts the title without the persistence-engine columns, CRLF and blank lines", () => {
    const text = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires\r\n\r\nTCP CB007164 D0FE CB00710A 0050 0A0A000D 0050 ESTABLISHED     892\r\n`;
    expect(entries(text)).toEqual([
      {
        protocol: "TCP",
        expiresSeconds: 892,
        state: "ESTABLISHED",
        client: { address: "203.0.113.100", port: 0xd0fe },
        virtual: { address: "203.0.113.10", port: 80 },
        destination: { address: "10.10.0.13", port: 80 },
        template: false,
        pe: null,
      },
    ]);
  });

  it("grows past its first guess of the entry count", () => {
    // 51 bytes a line against the 60 the first guess assumes: 3,000 lines force growth.
    const line = "UDP CB007164 D0FE CB00710A 0035 0A0A000D 0035 UDP 1";
    const table = parseConnTable(
      `${TITLE}\n${Array.from({ length: 3000 }, () => line).join("\n")}\n`,
    );
    expect(table.size).toBe(3000);
    expect(table.expires[2999]).toBe(1);
    expect(table.clientPort.length).toBe(3000);
  });

  it("gives the same table when parsed in slices", async () => {
    expect(await parseConnTableAsync(TEXT, 7)).toEqual(parseConnTable(TEXT));
  });

  it.each([
    ["", 1, "the output is empty"],
    ["Pro FromIP\n", 1, "expected the ip_vs_conn title"],
    [
      `${TITLE}\nTCP CB007164 D0FE CB00710A 0050 0A0A000D 0050 ESTABLISHED\n`,
      2,
      "at least 9 fields",
    ],
    [
      `${TITLE}\nICMP CB007164 D0FE CB00710A 0050 0A0A000D 0050 ESTABLISHED 1\n`,
      2,
      "unknown protocol",
    ],
    [
      `${TITLE}\nTCP CB0071 D0FE CB00710A 0050 0A0A000D 0050 ESTABLISHED 1\n`,
      2,
      'FromIP "CB0071" is not a hex address',
    ],
    [
      `${TITLE}\nTCP CB007164 D0F CB00710A 0050 0A0A000D 0050 ESTABLISHED 1\n`,
      2,
      'FromIP port "D0F" is not 4 hex digits',
    ],
    [`${TITLE}\nTCP CB007164 D0FE CB00710A 005G 0A0A000D 0050 ESTABLISHED 1\n`, 2, "ToIP port"],
    [
      `${TITLE}\nTCP CB007164 D0FE CB00710A 0050 0A0A000D 0050 established 1\n`,
      2,
      "is not a connection state",
    ],
    [
      `${TITLE}\nTCP CB007164 D0FE CB00710A 0050 0A0A000D 0050 ESTABLISHED -1\n`,
      2,
      "is not a number of seconds",
    ],
    [
      `${TITLE}\nTCP CB007164 D0FE CB00710A 0050 0A0A000D 0050 ESTABLISHED 4294967296\n`,
      2,
      "is not a number of seconds",
    ],
  ])("refuses %j with a PARSE_ERROR naming line %i", (text, lineNumber, message) => {
    const error = parseErrorOf(() => parseConnTable(text));
    expect(error).toMatchObject({
      code: "PARSE_ERROR",
      source: "/proc/net/ip_vs_conn",
      lineNumber,
    });
    expect(error.message).toContain(message);
  });
});
