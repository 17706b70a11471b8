import { describe, expect, it } from "vitest";
import { formatEndpoint, type ConnectionEntry } from "@/server/ipvs/model";
import { parseProcConnections } from "@/server/ipvs/parse";
import { parseConnTable } from "@/server/ipvs/parse/conn-table";
import { fixture } from "@/test/support/parse";
import { member } from "@/test/support/fake-director";
import { connectionsPage, matchConnTable, type ServiceContext } from "./connections-query";
import {
  addressToHex,
  connectionFilterSchema,
  connectionsQuerySchema,
  parseServiceDisplay,
  type ConnectionFilterInput,
} from "./connections-filter";

const TEXT = fixture("proc-net-ip_vs_conn.txt");
const ALL = parseProcConnections(TEXT);
const TABLE = parseConnTable(TEXT);

const context: ServiceContext = {
  services: [
    { key: { kind: "tcp", address: "203.0.113.10", port: 80 }, realservers: [] },
    { key: { kind: "tcp", address: "203.0.113.10", port: 8080 }, realservers: [] },
    {
      key: { kind: "fwm", mark: 1, family: "inet" },
      realservers: [member("10.10.0.11", 80, 1), member("10.10.0.12", 80, 1)],
    },
  ],
};

function query(filter: ConnectionFilterInput, offset = 0, limit = 500) {
  const match = matchConnTable(TABLE, connectionFilterSchema.parse(filter), context);
  return connectionsPage(TABLE, match, { offset, limit });
}

function countBy(
  entries: ConnectionEntry[],
  key: (e: ConnectionEntry) => string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) out[key(e)] = (out[key(e)] ?? 0) + 1;
  return out;
}

describe("the connection table query (on the columns of one read)", () => {
  it("counts the whole table by state and by realserver", () => {
    const page = query({});
    expect(page.total).toBe(162);
    expect(page.matched).toBe(162);
    expect(page.countsByState).toEqual({
      ASSURED: 10,
      ESTABLISHED: 13,
      NONE: 1,
      TIME_WAIT: 105,
      UDP: 33,
    });
    expect(page.countsByRealserver).toEqual(countBy(ALL, (e) => formatEndpoint(e.destination)));
    expect(page.countsByRealserver["[2001:db8:200::11]:80"]).toBeGreaterThan(0);
    expect(page.entries).toEqual(ALL);
  });

  it("filters by state", () => {
    const page = query({ state: "ESTABLISHED" });
    expect(page.matched).toBe(13);
    expect(page.total).toBe(162);
    expect(page.countsByState).toEqual({ ESTABLISHED: 13 });
    expect(page.entries.every((e) => e.state === "ESTABLISHED")).toBe(true);
  });

  it("filters by realserver, with or without its port", () => {
    const rs = query({ realserver: "10.10.0.13" });
    const expected = ALL.filter((e) => e.destination.address === "10.10.0.13");
    expect(rs.matched).toBe(expected.length);
    expect(Object.keys(rs.countsByRealserver).sort()).toEqual(
      ["10.10.0.13:443", "10.10.0.13:80"].filter((k) =>
        expected.some((e) => formatEndpoint(e.destination) === k),
      ),
    );
    expect(query({ realserver: "10.10.0.11:53" }).matched).toBe(
      ALL.filter((e) => formatEndpoint(e.destination) === "10.10.0.11:53").length,
    );
    expect(query({ realserver: "[2001:db8:200::11]:80" }).matched).toBe(
      ALL.filter((e) => e.destination.address === "2001:db8:200::11").length,
    );
  });

  it("filters clients by address and by prefix, including prefixes that are not a whole hex digit", () => {
    expect(query({ client: "203.0.113.109" }).matched).toBe(
      ALL.filter((e) => e.client.address === "203.0.113.109").length,
    );
    expect(query({ client: "203.0.113.0/24" }).matched).toBe(
      ALL.filter((e) => e.client.address.startsWith("203.0.113.")).length,
    );
    // .104-.107 is 203.0.113.104/30; .108-.111 is .108/30
    const in104 = ALL.filter((e) =>
      ["203.0.113.104", "203.0.113.105", "203.0.113.106", "203.0.113.107"].includes(
        e.client.address,
      ),
    );
    expect(query({ client: "203.0.113.104/30" }).matched).toBe(in104.length);
    expect(query({ client: "2001:db8:100::/48" }).matched).toBe(
      ALL.filter((e) => e.client.address.startsWith("2001:db8:100:")).length,
    );
    expect(query({ client: "0.0.0.0/0" }).matched).toBe(
      ALL.filter((e) => !e.client.address.includes(":")).length,
    );
  });

  it("filters by service, and by firewall mark through its realservers", () => {
    const web = query({ service: "TCP 203.0.113.10:80" });
    expect(web.matched).toBe(
      ALL.filter((e) => e.protocol === "TCP" && formatEndpoint(e.virtual) === "203.0.113.10:80")
        .length,
    );
    // FWM 1 marks TCP to 203.0.113.12:80 in the lab; the table shows that address, not the mark
    const fwm = query({ service: "FWM 1" });
    expect(fwm.matched).toBe(
      ALL.filter((e) => formatEndpoint(e.virtual) === "203.0.113.12:80").length,
    );
    expect(fwm.matched).toBeGreaterThan(0);
    // IPv6 fields are compared in the kernel's own form (lower-case groups of four).
    const v6 = query({ service: "TCP [2001:db8:100::10]:80" });
    expect(v6.matched).toBe(
      ALL.filter(
        (e) => e.protocol === "TCP" && formatEndpoint(e.virtual) === "[2001:db8:100::10]:80",
      ).length,
    );
    expect(v6.matched).toBeGreaterThan(0);
  });

  it("separates persistence templates from connections", () => {
    expect(query({ templates: true }).matched).toBe(11);
    expect(query({ templates: false }).matched).toBe(151);
    expect(query({ templates: true, state: "NONE" }).entries[0]?.client).toEqual({
      address: "203.0.113.0",
      port: 0,
    });
  });

  it("returns one page of the matched entries, with counts over all of them", () => {
    const first = query({ state: "TIME_WAIT" }, 0, 10);
    const second = query({ state: "TIME_WAIT" }, 10, 10);
    const last = query({ state: "TIME_WAIT" }, 100, 10);
    expect(first.entries).toHaveLength(10);
    expect(second.entries).toHaveLength(10);
    expect(last.entries).toHaveLength(5);
    expect(first.matched).toBe(105);
    expect(first.countsByState).toEqual({ TIME_WAIT: 105 });
    const timeWait = ALL.filter((e) => e.state === "TIME_WAIT");
    expect([...first.entries, ...second.entries]).toEqual(timeWait.slice(0, 20));
    expect(query({ state: "SYN_RECV" })).toMatchObject({
      matched: 0,
      entries: [],
      countsByState: {},
      countsByRealserver: {},
    });
  });
});

describe("filter validation", () => {
  it.each([
    [{ state: "BOGUS" }, "a state is one of"],
    [{ client: "203.0.113.0/33" }, "a prefix length is a whole number from 0 to 32"],
    [{ client: "evil; rm -rf /" }, "is not an IPv4 or IPv6 address or prefix"],
    [{ realserver: "10.10.0.11:99999" }, "a port is a whole number from 1 to 65535"],
    [{ service: "TCP 203.0.113.10" }, 'a service is written like "TCP 203.0.113.10:80"'],
  ])("refuses %j", (filter, message) => {
    const result = connectionFilterSchema.safeParse(filter);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(message);
  });

  it("limits a page to 500 entries", () => {
    expect(
      connectionsQuerySchema.safeParse({ directorId: "a", offset: 0, limit: 501 }).success,
    ).toBe(false);
  });

  it("converts addresses to the kernel's hex form", () => {
    expect(addressToHex("203.0.113.10")).toBe("CB00710A");
    expect(addressToHex("2001:db8:100::10")).toBe("20010DB8010000000000000000000010");
    expect(addressToHex("::")).toBe("0".repeat(32));
    expect(addressToHex("::ffff:1.2.3.4")).toBe("00000000000000000000FFFF01020304");
  });

  it("reads the display form of a service key", () => {
    expect(parseServiceDisplay("TCP 203.0.113.10:80")).toEqual({
      kind: "tcp",
      address: "203.0.113.10",
      port: 80,
    });
    expect(parseServiceDisplay("UDP [2001:db8::1]:53")).toEqual({
      kind: "udp",
      address: "2001:db8::1",
      port: 53,
    });
    expect(parseServiceDisplay("FWM 1")).toEqual({ kind: "fwm", mark: 1, family: "inet" });
    expect(parseServiceDisplay("FWM 0")).toBeNull();
  });
});
