import { describe, expect, it } from "vitest";
import { parseKeepalivedConfig } from "./config";
import { programmedServices } from "./program";
import { fixtureFiles, MAIN } from "./test-support";

function programmed(dir: string) {
  return programmedServices(parseKeepalivedConfig(MAIN, fixtureFiles(dir)));
}

const members = (s: ReturnType<typeof programmed>["services"][number] | undefined) =>
  s?.realservers.map((r) => [
    r.address,
    r.port,
    r.forward,
    r.weight,
    r.inhibitOnFailure,
    r.source.line,
  ]);

describe("what keepalived programs into IPVS", () => {
  it("maps the single-file config to services in the console's model, with source lines", () => {
    const { services, findings } = programmed("single");
    expect(findings).toEqual([]);
    expect(
      services.map((s) => [s.key, s.scheduler, s.persistence, s.ops, s.schedFlags, s.source.line]),
    ).toEqual([
      [{ kind: "tcp", address: "203.0.113.10", port: 80 }, "wrr", null, false, [], 48],
      [
        { kind: "tcp", address: "203.0.113.10", port: 443 },
        "wlc",
        { timeout: 600, netmask: "255.255.255.0" },
        false,
        [],
        79,
      ],
      [{ kind: "udp", address: "203.0.113.20", port: 53 }, "rr", null, true, [], 105],
      [
        { kind: "fwm", mark: 7, family: "inet" },
        "sh",
        { timeout: 300, netmask: null },
        false,
        ["sh-port"],
        128,
      ],
    ]);
    expect(members(services[1])).toEqual([
      ["10.10.0.11", 443, "masq", 1, true, 89],
      ["10.10.0.12", 443, "masq", 1, true, 96],
    ]);
    expect(services[3]?.sorryServer).toMatchObject({
      address: "10.10.0.99",
      port: 80,
      forward: "masq",
    });
    // No weight line: keepalived's default weight 1.
    expect(services[3]?.realservers[1]).toMatchObject({
      weight: 1,
      weightSource: null,
      checkers: ["SSL_GET"],
    });
    expect(services[0]?.realservers[0]?.weightSource?.line).toBe(55);
  });

  it("expands virtual_server_group entries (ranges, fwmark) and fills keepalived 2.2.7's defaults", () => {
    const { services, findings } = programmed("groups");
    expect(services.map((s) => [s.key, s.groupEntry?.line ?? null])).toEqual([
      [{ kind: "tcp", address: "203.0.113.40", port: 80 }, 3],
      [{ kind: "tcp", address: "203.0.113.41", port: 80 }, 4],
      [{ kind: "tcp", address: "203.0.113.42", port: 80 }, 4],
      [{ kind: "tcp", address: "203.0.113.43", port: 80 }, 4],
      [{ kind: "fwm", mark: 12, family: "inet" }, 5],
      [{ kind: "tcp", address: "2001:db8::40", port: 443 }, null],
      [{ kind: "fwm", mark: 20, family: "inet" }, null],
      [{ kind: "udp", address: "203.0.113.50", port: 5060 }, null],
    ]);
    // The group's inhibit_on_failure applies unless a real_server turns it off.
    expect(members(services[0])).toEqual([
      ["10.30.0.11", 80, "masq", 4, true, 14],
      ["10.30.0.12", 80, "masq", 4, false, 18],
    ]);
    expect(services[5]?.persistence).toEqual({ timeout: 120, netmask: 64 });
    expect(members(services[5])?.map((m) => m[3])).toEqual([1, 2]);
    // DR members of a fwmark service are keyed with port 0, as the kernel keys them.
    expect(members(services[6])).toEqual([
      ["10.30.0.21", 0, "route", 2, false, 50],
      ["10.30.0.22", 0, "route", 2, false, 55],
    ]);
    expect(services[7]).toMatchObject({ scheduler: "wlc" });
    expect(services[7]?.realservers[0]?.forward).toBe("masq");
    expect(findings.map((f) => [f.line, f.message])).toEqual([
      [42, "protocol is ignored for a firewall-mark service"],
      [50, "real server port 8080 differs from the service's: keepalived uses 0"],
      [64, "no protocol set: keepalived 2.2.7 defaults it to UDP"],
      [64, "no lb_kind set: keepalived uses NAT"],
    ]);
  });

  it("drops what keepalived drops: no realservers, duplicates, wrong family; port fixes", () => {
    const text = [
      "virtual_server 203.0.113.1 80 {",
      "  protocol TCP",
      "  lb_kind DR",
      "  lb_algo twos",
      "}",
      "virtual_server 203.0.113.2 80 {",
      "  protocol TCP",
      "  lb_algo fastest",
      "  real_server 10.0.0.1 {",
      "  }",
      "  real_server 10.0.0.1 80 {",
      "  }",
      "  real_server 2001:db8::1 80 {",
      "  }",
      "}",
      "virtual_server 203.0.113.3 0 {",
      "  protocol TCP",
      "  real_server 10.0.0.2 0 {",
      "  }",
      "}",
    ].join("\n");
    const { services, findings } = programmedServices(
      parseKeepalivedConfig(MAIN, { [MAIN]: text }),
    );
    expect(
      services.map((s) => [s.key, s.scheduler, s.persistence?.timeout ?? null, members(s)]),
    ).toEqual([
      [
        { kind: "tcp", address: "203.0.113.2", port: 80 },
        "wlc",
        null,
        [["10.0.0.1", 80, "masq", 1, false, 9]],
      ],
      [
        { kind: "tcp", address: "203.0.113.3", port: 0 },
        "wlc",
        300,
        [["10.0.0.2", 0, "masq", 1, false, 18]],
      ],
    ]);
    expect(findings.map((f) => [f.line, f.message])).toEqual([
      [1, "virtual server has no real servers: keepalived ignores it"],
      [6, "unknown scheduler fastest: keepalived ignores it and uses wlc"],
      [6, "no lb_kind set: keepalived uses NAT"],
      [11, "real server 10.0.0.1:80 is duplicated: keepalived removes this one"],
      [
        13,
        "real server 2001:db8::1 is not of the virtual server's address family: keepalived skips it",
      ],
      [16, "no lb_kind set: keepalived uses NAT"],
    ]);
  });
});
