import { describe, expect, it } from "vitest";
import { parseCheckDump, parseVrrpDump, realserverUp } from "./dump";
import { fixtureText } from "./test-support";

describe("parseVrrpDump on /tmp/keepalived.data (keepalived 2.2.7 format)", () => {
  const dump = parseVrrpDump(fixtureText("dumps/keepalived.data"));

  it("reads the state and the useful fields of every instance", () => {
    expect(dump.findings).toEqual([]);
    expect(
      dump.instances.map((i) => [
        i.name,
        i.state,
        i.wantState,
        i.syncGroup,
        i.interface,
        i.virtualRouterId,
        i.priority,
      ]),
    ).toEqual([
      ["VI_VIP", "MASTER", "MASTER", "VG_NAT", "eth0", 51, 100],
      ["VI_DIP", "BACKUP", "BACKUP", "VG_NAT", "eth1", 52, 100],
    ]);
    expect(dump.instances[0]?.virtualIps).toEqual(["203.0.113.10/24", "203.0.113.20/24"]);
    expect(dump.instances[0]?.masterRouter).toBeNull();
    expect(dump.instances[1]).toMatchObject({
      masterRouter: "10.10.0.3",
      masterPriority: 150,
      lastTransition: 1764623980.512345,
    });
  });

  it("reads sync groups with their members", () => {
    expect(dump.syncGroups.map((g) => [g.name, g.state, g.members])).toEqual([
      ["VG_NAT", "MASTER", ["VI_VIP", "VI_DIP"]],
    ]);
  });

  it("skips lines it does not know and reports an instance without a State line", () => {
    const text = [
      "------< VRRP Topology >------",
      " VRRP Instance = VI_X",
      "   Something new = 1",
      "   Priority = 90",
      "garbage",
    ].join("\n");
    const partial = parseVrrpDump(text);
    expect(partial.instances).toMatchObject([{ name: "VI_X", state: null, priority: 90 }]);
    expect(partial.findings).toEqual([
      { line: 2, message: "VRRP instance VI_X has no State line" },
    ]);
    expect(parseVrrpDump("")).toEqual({ instances: [], syncGroups: [], findings: [] });
  });
});

describe("parseCheckDump on /tmp/keepalived_check.data (keepalived 2.2.7 format)", () => {
  const dump = parseCheckDump(fixtureText("dumps/keepalived_check.data"));

  it("reads every virtual server with scheduler, protocol, quorum and state", () => {
    expect(dump.findings).toEqual([]);
    expect(
      dump.services.map((s) => [
        s.target,
        s.protocol,
        s.scheduler,
        s.persistenceTimeout,
        s.quorum,
        s.hysteresis,
        s.alive,
        s.quorumUp,
      ]),
    ).toEqual([
      [
        { kind: "address", address: "203.0.113.10", port: 80 },
        "tcp",
        "wrr",
        null,
        1,
        0,
        true,
        true,
      ],
      [
        { kind: "address", address: "203.0.113.10", port: 443 },
        "tcp",
        "wlc",
        600,
        2,
        0,
        true,
        true,
      ],
      [{ kind: "address", address: "203.0.113.20", port: 53 }, "udp", "rr", null, 1, 0, true, true],
      [{ kind: "fwmark", mark: 7 }, null, "sh", 300, 1, 0, true, true],
    ]);
    expect(dump.services[3]?.sorryServer).toBe("[10.10.0.99]:none:80");
  });

  it("reads every real server: weights, alive, inhibit, and its checkers' Up", () => {
    const rows = dump.services.flatMap((s) =>
      s.realservers.map((r) => [
        r.address,
        r.port,
        r.weight,
        r.effectiveWeight,
        r.initialWeight,
        r.alive,
        r.inhibitOnFailure,
        r.checkers.map((c) => [c.method, c.up]),
      ]),
    );
    expect(rows).toEqual([
      ["10.10.0.11", 80, 3, 3, 3, true, false, [["HTTP_GET", true]]],
      ["10.10.0.12", 80, 2, 2, 2, true, false, [["HTTP_GET", true]]],
      ["10.10.0.11", 443, 1, 1, 1, false, true, [["TCP_CHECK", false]]],
      ["10.10.0.12", 443, 1, 1, 1, true, true, [["TCP_CHECK", true]]],
      ["10.10.0.13", 53, 1, 1, 1, false, false, [["MISC_CHECK", false]]],
      ["10.10.0.14", 53, 1, 1, 1, true, false, [["DNS_CHECK", true]]],
      ["10.10.0.11", 80, 2, 2, 2, true, false, [["SMTP_CHECK", true]]],
      ["10.10.0.12", 80, 1, 1, 1, true, false, [["SSL_GET", true]]],
    ]);
  });

  it("is tolerant: unknown lines skipped, a real server without alive reported, up from its checkers", () => {
    const text = [
      "------< LVS Topology >------",
      " ------< Virtual server >------",
      " VS VIP = 2001:DB8::40, VPORT = 443",
      "   protocol = TCP",
      "   brand new line = 5",
      "   ------< Real server >------",
      "   RIP = 2001:db8:30::11, RPORT = 443, WEIGHT = 2 EFF WEIGHT = 2",
      "------< Health checkers >------",
      " [2001:db8::40]:tcp:443 -> [2001:db8:30::11]:tcp:443",
      "   Up = no",
      " [203.0.113.99]:tcp:1 -> [10.0.0.1]:tcp:1",
      "   Up = yes",
    ].join("\n");
    const partial = parseCheckDump(text);
    const rs = partial.services[0]?.realservers[0];
    expect(partial.services[0]?.target).toEqual({
      kind: "address",
      address: "2001:db8::40",
      port: 443,
    });
    expect(rs).toMatchObject({ alive: null, weight: 2, checkers: [{ up: false }] });
    expect(rs === undefined ? null : realserverUp(rs)).toBe(false);
    expect(partial.findings).toEqual([
      { line: 11, message: "a checker of a real server the dump does not list" },
      { line: 7, message: "real server 2001:db8:30::11:443 has no alive line" },
    ]);
  });
});
