import { describe, expect, it } from "vitest";
import { thrownBy } from "@/test/support/errors";
import {
  addRealserver,
  addService,
  deleteRealserver,
  deleteService,
  editRealserver,
  editService,
  restoreLines,
  rulesetToArgv,
  setSysctl,
  setWeight,
  type RealserverRuleInput,
  type ServiceKeyInput,
  type ServiceRuleInput,
} from "./commands";

const WEB: ServiceKeyInput = { kind: "tcp", address: "203.0.113.10", port: 80 };
const ALT: ServiceKeyInput = { kind: "tcp", address: "203.0.113.10", port: 8080 };
const TLS: ServiceKeyInput = { kind: "tcp", address: "203.0.113.11", port: 443 };
const DNS: ServiceKeyInput = { kind: "udp", address: "203.0.113.10", port: 53 };
const V6: ServiceKeyInput = { kind: "tcp", address: "2001:db8:100::10", port: 80 };
const FWM: ServiceKeyInput = { kind: "fwm", mark: 1 };
const FWM6: ServiceKeyInput = { kind: "fwm", mark: 7, family: "inet6" };

const rs1: RealserverRuleInput = { address: "10.10.0.11", port: 80, forward: "masq", weight: 1 };

const failure = thrownBy;

function expectRejected(fn: () => unknown, field: string, why: RegExp): void {
  const e = failure(fn);
  expect(e.code).toBe("VALIDATION");
  expect(e.message).toContain(field);
  expect(e.message).toMatch(why);
  expect(e.details.fields).toHaveProperty([field]);
}

describe("service builders", () => {
  it("adds the fixture's services the way ipvsadm -S writes them", () => {
    expect(addService({ key: WEB, scheduler: "rr", persistence: { timeout: 300 } })).toEqual([
      "ipvsadm",
      "-A",
      "-t",
      "203.0.113.10:80",
      "-s",
      "rr",
      "-p",
      "300",
    ]);
    expect(addService({ key: ALT, scheduler: "wrr" })).toEqual([
      "ipvsadm",
      "-A",
      "-t",
      "203.0.113.10:8080",
      "-s",
      "wrr",
    ]);
    expect(
      addService({
        key: TLS,
        scheduler: "wlc",
        persistence: { timeout: 120, netmask: "255.255.255.0" },
      }),
    ).toEqual([
      "ipvsadm",
      "-A",
      "-t",
      "203.0.113.11:443",
      "-s",
      "wlc",
      "-p",
      "120",
      "-M",
      "255.255.255.0",
    ]);
    expect(
      addService({ key: DNS, scheduler: "sh", schedFlags: ["sh-fallback", "sh-port"] }),
    ).toEqual(["ipvsadm", "-A", "-u", "203.0.113.10:53", "-s", "sh", "-b", "sh-fallback,sh-port"]);
    expect(
      addService({
        key: { kind: "udp", address: "203.0.113.10", port: 123 },
        scheduler: "rr",
        ops: true,
      }),
    ).toEqual(["ipvsadm", "-A", "-u", "203.0.113.10:123", "-s", "rr", "-o"]);
    expect(addService({ key: V6, scheduler: "rr" })).toEqual([
      "ipvsadm",
      "-A",
      "-t",
      "[2001:db8:100::10]:80",
      "-s",
      "rr",
    ]);
    expect(
      addService({ key: FWM, scheduler: "mh", schedFlags: ["mh-fallback", "mh-port"] }),
    ).toEqual(["ipvsadm", "-A", "-f", "1", "-s", "mh", "-b", "mh-fallback,mh-port"]);
  });

  it("uses -6 for an IPv6 firewall mark, a prefix length as its netmask, and --sctp-service", () => {
    expect(
      addService({ key: FWM6, scheduler: "rr", persistence: { timeout: 60, netmask: 64 } }),
    ).toEqual(["ipvsadm", "-A", "-f", "7", "-6", "-s", "rr", "-p", "60", "-M", "64"]);
    expect(
      addService({ key: { kind: "sctp", address: "203.0.113.10", port: 3868 }, scheduler: "rr" }),
    ).toEqual(["ipvsadm", "-A", "--sctp-service", "203.0.113.10:3868", "-s", "rr"]);
  });

  it("writes IPv6 addresses canonically, in brackets", () => {
    expect(
      addService({
        key: { kind: "tcp", address: "2001:DB8:100:0:0:0:0:10", port: 80 },
        scheduler: "rr",
      }),
    ).toContain("[2001:db8:100::10]:80");
  });

  it("edits a service by repeating every attribute (-E sets the whole service)", () => {
    expect(
      editService({
        key: { kind: "tcp", address: "203.0.113.20", port: 5060 },
        scheduler: "wlc",
        persistence: { timeout: 120, netmask: "255.255.255.0" },
        pe: "sip",
      }),
    ).toEqual([
      "ipvsadm",
      "-E",
      "-t",
      "203.0.113.20:5060",
      "-s",
      "wlc",
      "-p",
      "120",
      "-M",
      "255.255.255.0",
      "--pe",
      "sip",
    ]);
    expect(editService({ key: FWM, scheduler: "mh", schedFlags: ["mh-port"] })).toEqual([
      "ipvsadm",
      "-E",
      "-f",
      "1",
      "-s",
      "mh",
      "-b",
      "mh-port",
    ]);
  });

  it("deletes a service by its key alone", () => {
    expect(deleteService(WEB)).toEqual(["ipvsadm", "-D", "-t", "203.0.113.10:80"]);
    expect(deleteService(FWM6)).toEqual(["ipvsadm", "-D", "-f", "7", "-6"]);
    expect(deleteService(V6)).toEqual(["ipvsadm", "-D", "-t", "[2001:db8:100::10]:80"]);
  });
});

describe("realserver builders", () => {
  it("adds members with their forward method and weight", () => {
    expect(addRealserver(WEB, rs1)).toEqual([
      "ipvsadm",
      "-a",
      "-t",
      "203.0.113.10:80",
      "-r",
      "10.10.0.11:80",
      "-m",
      "-w",
      "1",
    ]);
    expect(
      addRealserver(TLS, { address: "10.10.0.14", port: 443, forward: "route", weight: 1 }),
    ).toEqual(["ipvsadm", "-a", "-t", "203.0.113.11:443", "-r", "10.10.0.14:443", "-g", "-w", "1"]);
    expect(
      addRealserver(TLS, {
        address: "10.10.0.15",
        port: 443,
        forward: "tunnel",
        weight: 1,
        tunnel: { type: "ipip" },
      }),
    ).toEqual([
      "ipvsadm",
      "-a",
      "-t",
      "203.0.113.11:443",
      "-r",
      "10.10.0.15:443",
      "-i",
      "-w",
      "1",
      "--tun-type",
      "ipip",
    ]);
    expect(
      addRealserver(V6, { address: "2001:db8:200::11", port: 80, forward: "masq", weight: 1 }),
    ).toEqual([
      "ipvsadm",
      "-a",
      "-t",
      "[2001:db8:100::10]:80",
      "-r",
      "[2001:db8:200::11]:80",
      "-m",
      "-w",
      "1",
    ]);
    expect(addRealserver(FWM, { ...rs1, upperThreshold: 100, lowerThreshold: 50 })).toEqual([
      "ipvsadm",
      "-a",
      "-f",
      "1",
      "-r",
      "10.10.0.11:80",
      "-m",
      "-w",
      "1",
      "-x",
      "100",
      "-y",
      "50",
    ]);
  });

  it("writes GUE and GRE tunnel options, with an explicit checksum choice", () => {
    expect(
      addRealserver(TLS, {
        address: "10.10.0.16",
        port: 443,
        forward: "tunnel",
        weight: 2,
        tunnel: { type: "gue", port: 6080, noChecksum: true },
      }),
    ).toEqual([
      "ipvsadm",
      "-a",
      "-t",
      "203.0.113.11:443",
      "-r",
      "10.10.0.16:443",
      "-i",
      "-w",
      "2",
      "--tun-type",
      "gue",
      "--tun-port",
      "6080",
      "--tun-nocsum",
    ]);
    expect(
      editRealserver(TLS, {
        address: "10.10.0.17",
        port: 443,
        forward: "tunnel",
        weight: 2,
        tunnel: { type: "gre" },
      }),
    ).toEqual([
      "ipvsadm",
      "-e",
      "-t",
      "203.0.113.11:443",
      "-r",
      "10.10.0.17:443",
      "-i",
      "-w",
      "2",
      "-x",
      "0",
      "-y",
      "0",
      "--tun-type",
      "gre",
      "--tun-csum",
    ]);
  });

  it("allows an IPv4 member on an IPv6 service for tunnel forwarding only", () => {
    expect(
      addRealserver(V6, { address: "10.10.0.13", port: 80, forward: "tunnel", weight: 1 }),
    ).toEqual([
      "ipvsadm",
      "-a",
      "-t",
      "[2001:db8:100::10]:80",
      "-r",
      "10.10.0.13:80",
      "-i",
      "-w",
      "1",
    ]);
    expectRejected(
      () => addRealserver(V6, { address: "10.10.0.13", port: 80, forward: "masq", weight: 1 }),
      "realserver.address",
      /IPv4 realserver on an IPv6 service is allowed only for tunnel forwarding/,
    );
    expectRejected(
      () => addRealserver(FWM6, { address: "10.10.0.13", port: 80, forward: "route", weight: 1 }),
      "realserver.address",
      /only for tunnel/,
    );
  });

  it("edits always carry -m/-g/-i, -w, -x and -y, so -e never falls back to defaults", () => {
    const masq = editRealserver(WEB, {
      ...rs1,
      weight: 0,
      upperThreshold: 100,
      lowerThreshold: 50,
    });
    expect(masq).toEqual([
      "ipvsadm",
      "-e",
      "-t",
      "203.0.113.10:80",
      "-r",
      "10.10.0.11:80",
      "-m",
      "-w",
      "0",
      "-x",
      "100",
      "-y",
      "50",
    ]);
    const plain = editRealserver(WEB, rs1);
    expect(plain).toEqual([
      "ipvsadm",
      "-e",
      "-t",
      "203.0.113.10:80",
      "-r",
      "10.10.0.11:80",
      "-m",
      "-w",
      "1",
      "-x",
      "0",
      "-y",
      "0",
    ]);
    for (const forward of ["masq", "route", "tunnel"] as const) {
      const argv = editRealserver(WEB, { ...rs1, forward });
      expect(argv.filter((w) => ["-m", "-g", "-i"].includes(w))).toHaveLength(1);
      expect(argv).toEqual(expect.arrayContaining(["-w", "-x", "-y"]));
    }
  });

  it("setWeight repeats every current attribute with the new weight", () => {
    const current: RealserverRuleInput = {
      address: "10.10.0.15",
      port: 443,
      forward: "tunnel",
      weight: 1,
      upperThreshold: 10,
      lowerThreshold: 5,
      tunnel: { type: "gue", port: 6080, noChecksum: true },
    };
    expect(setWeight(TLS, current, 0)).toEqual([
      "ipvsadm",
      "-e",
      "-t",
      "203.0.113.11:443",
      "-r",
      "10.10.0.15:443",
      "-i",
      "-w",
      "0",
      "-x",
      "10",
      "-y",
      "5",
      "--tun-type",
      "gue",
      "--tun-port",
      "6080",
      "--tun-nocsum",
    ]);
    expect(setWeight(WEB, rs1, 2147483647)).toContain("2147483647");
    expectRejected(() => setWeight(WEB, rs1, -1), "weight", /whole number from 0 to 2147483647/);
    expectRejected(
      () => setWeight(WEB, rs1, 2147483648),
      "weight",
      /whole number from 0 to 2147483647/,
    );
    expectRejected(() => setWeight(WEB, rs1, 1.5), "weight", /whole number/);
    expectRejected(() => setWeight(WEB, rs1, Number.NaN), "weight", /whole number/);
  });

  it("deletes a member by service and endpoint", () => {
    expect(deleteRealserver(WEB, { address: "10.10.0.11", port: 80 })).toEqual([
      "ipvsadm",
      "-d",
      "-t",
      "203.0.113.10:80",
      "-r",
      "10.10.0.11:80",
    ]);
    expect(deleteRealserver(FWM6, { address: "2001:db8:200::11", port: 80 })).toEqual([
      "ipvsadm",
      "-d",
      "-f",
      "7",
      "-6",
      "-r",
      "[2001:db8:200::11]:80",
    ]);
  });
});

describe("setSysctl", () => {
  it("writes one net.ipv4.vs setting", () => {
    expect(setSysctl({ name: "expire_quiescent_template", value: 1 })).toEqual([
      "sysctl",
      "-w",
      "net.ipv4.vs.expire_quiescent_template=1",
    ]);
    expect(setSysctl({ name: "conn_reuse_mode", value: 2 })).toEqual([
      "sysctl",
      "-w",
      "net.ipv4.vs.conn_reuse_mode=2",
    ]);
  });

  it("refuses settings the console does not manage and values the setting does not take", () => {
    expectRejected(
      () => setSysctl({ name: "amemthresh" as "sloppy_tcp", value: 1 }),
      "setting.name",
      /the console sets only/,
    );
    expectRejected(
      () => setSysctl({ name: "sloppy_tcp", value: 2 }),
      "setting.value",
      /accepts 0 or 1, not 2/,
    );
  });
});

describe("rejections name the field and say why", () => {
  const rule: ServiceRuleInput = { key: WEB, scheduler: "rr" };

  it("bad addresses", () => {
    expectRejected(
      () => addService({ ...rule, key: { ...WEB, address: "300.1.1.1" } }),
      "service.key.address",
      /not an IPv4 or IPv6 address/,
    );
    expectRejected(
      () => addService({ ...rule, key: { ...WEB, address: "no-such-host.invalid" } }),
      "service.key.address",
      /not an IPv4/,
    );
    expectRejected(
      () => addRealserver(WEB, { ...rs1, address: "10.10.0" }),
      "realserver.address",
      /not an IPv4/,
    );
    expectRejected(
      () => deleteRealserver(WEB, { address: "", port: 80 }),
      "realserver.address",
      /not an IPv4/,
    );
    expectRejected(
      () => deleteService({ ...WEB, address: "2001:db8::g" }),
      "service.address",
      /not an IPv4/,
    );
  });

  it("ports 0 and 65536", () => {
    expectRejected(
      () => addService({ ...rule, key: { ...WEB, port: 0 } }),
      "service.key.port",
      /only for a persistent service/,
    );
    expectRejected(
      () => addService({ ...rule, key: { ...WEB, port: 65536 } }),
      "service.key.port",
      /from 0 to 65535/,
    );
    expectRejected(
      () => addRealserver(WEB, { ...rs1, port: 0 }),
      "realserver.port",
      /needs a port from 1 to 65535/,
    );
    expectRejected(
      () => deleteRealserver(WEB, { address: "10.10.0.11", port: 65536 }),
      "realserver.port",
      /from 0 to 65535/,
    );
  });

  it("port 0 where IPVS allows it: persistent all-ports services and firewall-mark members", () => {
    const allPorts: ServiceKeyInput = { kind: "tcp", address: "203.0.113.10", port: 0 };
    expect(addService({ key: allPorts, scheduler: "rr", persistence: { timeout: 300 } })).toEqual([
      "ipvsadm",
      "-A",
      "-t",
      "203.0.113.10:0",
      "-s",
      "rr",
      "-p",
      "300",
    ]);
    expect(addRealserver(allPorts, { ...rs1, port: 0 })).toEqual([
      "ipvsadm",
      "-a",
      "-t",
      "203.0.113.10:0",
      "-r",
      "10.10.0.11:0",
      "-m",
      "-w",
      "1",
    ]);
    expect(addRealserver({ kind: "fwm", mark: 1 }, { ...rs1, port: 0 })).toEqual([
      "ipvsadm",
      "-a",
      "-f",
      "1",
      "-r",
      "10.10.0.11:0",
      "-m",
      "-w",
      "1",
    ]);
  });

  it("weights -1, 2147483648, 1.5 and NaN", () => {
    for (const weight of [-1, 2147483648, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectRejected(
        () => addRealserver(WEB, { ...rs1, weight }),
        "realserver.weight",
        /a weight is a whole number from 0 to 2147483647/,
      );
      expectRejected(
        () => editRealserver(WEB, { ...rs1, weight }),
        "realserver.weight",
        /a weight is a whole number/,
      );
    }
  });

  it("unknown scheduler", () => {
    expectRejected(
      () => addService({ ...rule, scheduler: "bogus" as "rr" }),
      "service.scheduler",
      /unknown scheduler "bogus"/,
    );
    expectRejected(
      () => editService({ ...rule, scheduler: "twos" as "rr" }),
      "service.scheduler",
      /unknown scheduler/,
    );
  });

  it("persistence 0 and NaN", () => {
    expectRejected(
      () => addService({ ...rule, persistence: { timeout: 0 } }),
      "service.persistence.timeout",
      /from 1 to/,
    );
    expectRejected(
      () => addService({ ...rule, persistence: { timeout: Number.NaN } }),
      "service.persistence.timeout",
      /whole number/,
    );
  });

  it("thresholds out of order, or out of range", () => {
    expectRejected(
      () => editRealserver(WEB, { ...rs1, upperThreshold: 10, lowerThreshold: 20 }),
      "realserver.lowerThreshold",
      /above the upper threshold .*Numerical result out of range/,
    );
    // The kernel compares them even when the upper is 0 ("no limit").
    expectRejected(
      () => addRealserver(WEB, { ...rs1, lowerThreshold: 20 }),
      "realserver.lowerThreshold",
      /Numerical result out of range/,
    );
    expectRejected(
      () => addRealserver(WEB, { ...rs1, upperThreshold: -1 }),
      "realserver.upperThreshold",
      /threshold/,
    );
    expectRejected(
      () => addRealserver(WEB, { ...rs1, upperThreshold: 4294967296 }),
      "realserver.upperThreshold",
      /threshold/,
    );
    expect(editRealserver(WEB, { ...rs1, upperThreshold: 20, lowerThreshold: 20 })).toContain("-x");
  });

  it("scheduler flags only with sh and mh, and with the matching prefix", () => {
    expectRejected(
      () => addService({ ...rule, scheduler: "rr", schedFlags: ["sh-port"] }),
      "service.schedFlags",
      /only for the sh and mh/,
    );
    expectRejected(
      () => addService({ ...rule, scheduler: "mh", schedFlags: ["sh-port"] }),
      "service.schedFlags.0",
      /another scheduler/,
    );
    expectRejected(
      () => addService({ ...rule, scheduler: "sh", schedFlags: ["sh-port", "sh-port"] }),
      "service.schedFlags.1",
      /twice/,
    );
  });

  it("one-packet scheduling only for UDP (and firewall marks)", () => {
    expectRejected(() => addService({ ...rule, ops: true }), "service.ops", /only for UDP/);
    expect(addService({ key: FWM, scheduler: "rr", ops: true })).toContain("-o");
  });

  it("persistence netmask of the service's family, and a persistence engine only with persistence", () => {
    expectRejected(
      () => addService({ ...rule, persistence: { timeout: 60, netmask: 24 } }),
      "service.persistence.netmask",
      /dotted/,
    );
    expectRejected(
      () =>
        addService({
          key: V6,
          scheduler: "rr",
          persistence: { timeout: 60, netmask: "255.255.255.0" },
        }),
      "service.persistence.netmask",
      /prefix length/,
    );
    expectRejected(() => addService({ ...rule, pe: "sip" }), "service.pe", /persistent service/);
  });

  it("route and tunnel members keep the service port", () => {
    expectRejected(
      () => addRealserver(ALT, { address: "10.10.0.14", port: 80, forward: "route", weight: 1 }),
      "realserver.port",
      /must be the service port 8080/,
    );
    expectRejected(
      () => editRealserver(ALT, { address: "10.10.0.15", port: 80, forward: "tunnel", weight: 1 }),
      "realserver.port",
      /must be the service port 8080/,
    );
    // Masq may map ports; firewall-mark services have no port to keep.
    expect(addRealserver(ALT, rs1)).toContain("10.10.0.11:80");
    expect(
      addRealserver(FWM, { address: "10.10.0.14", port: 80, forward: "route", weight: 1 }),
    ).toContain("-g");
  });

  it("tunnel options only where they mean something", () => {
    expectRejected(
      () => addRealserver(WEB, { ...rs1, tunnel: { type: "ipip" } }),
      "realserver.tunnel",
      /only for tunnel forwarding/,
    );
    const tun = { address: "10.10.0.15", port: 443, forward: "tunnel", weight: 1 } as const;
    expectRejected(
      () => addRealserver(TLS, { ...tun, tunnel: { type: "gue" } }),
      "realserver.tunnel.port",
      /needs a tunnel port/,
    );
    expectRejected(
      () => addRealserver(TLS, { ...tun, tunnel: { type: "ipip", port: 6080 } }),
      "realserver.tunnel.port",
      /only a GUE/,
    );
    expectRejected(
      () => addRealserver(TLS, { ...tun, tunnel: { type: "ipip", noChecksum: true } }),
      "realserver.tunnel.noChecksum",
      /GUE and GRE/,
    );
  });

  it("names every bad field at once", () => {
    const e = failure(() =>
      addRealserver({ ...WEB, port: 65536 }, { ...rs1, weight: -1, address: "x" }),
    );
    expect(Object.keys(e.details.fields as object).sort()).toEqual([
      "realserver.address",
      "realserver.weight",
      "service.port",
    ]);
    expect(e.message).toMatch(/and 2 more problems/);
  });

  it("trims whitespace around an address rather than passing it on", () => {
    expect(addRealserver(WEB, { ...rs1, address: " 10.10.0.11\n" })).toContain("10.10.0.11:80");
  });
});

describe("rule sets", () => {
  const ruleset = {
    services: [
      {
        key: WEB,
        scheduler: "rr" as const,
        persistence: { timeout: 300 },
        realservers: [rs1, { ...rs1, address: "10.10.0.12" }],
      },
      {
        key: FWM,
        scheduler: "mh" as const,
        realservers: [{ ...rs1, upperThreshold: 100, lowerThreshold: 50 }],
      },
    ],
  };

  it("rulesetToArgv creates each service, then its members", () => {
    expect(rulesetToArgv(ruleset)).toEqual([
      ["ipvsadm", "-A", "-t", "203.0.113.10:80", "-s", "rr", "-p", "300"],
      ["ipvsadm", "-a", "-t", "203.0.113.10:80", "-r", "10.10.0.11:80", "-m", "-w", "1"],
      ["ipvsadm", "-a", "-t", "203.0.113.10:80", "-r", "10.10.0.12:80", "-m", "-w", "1"],
      ["ipvsadm", "-A", "-f", "1", "-s", "mh"],
      ["ipvsadm", "-a", "-f", "1", "-r", "10.10.0.11:80", "-m", "-w", "1", "-x", "100", "-y", "50"],
    ]);
  });

  it("restoreLines writes the same commands as ipvsadm -R input (thresholds included, unlike -S)", () => {
    expect(restoreLines(ruleset)).toEqual([
      "-A -t 203.0.113.10:80 -s rr -p 300",
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1",
      "-a -t 203.0.113.10:80 -r 10.10.0.12:80 -m -w 1",
      "-A -f 1 -s mh",
      "-a -f 1 -r 10.10.0.11:80 -m -w 1 -x 100 -y 50",
    ]);
    expect(restoreLines({ services: [] })).toEqual([]);
  });

  it("refuses duplicates and bad members before writing a line (ipvsadm -R is not atomic)", () => {
    expectRejected(
      () =>
        restoreLines({
          services: [...ruleset.services, { key: WEB, scheduler: "wlc", realservers: [] }],
        }),
      "services.2.key",
      /listed twice/,
    );
    expectRejected(
      () => restoreLines({ services: [{ key: WEB, scheduler: "rr", realservers: [rs1, rs1] }] }),
      "services.0.realservers.1",
      /listed twice/,
    );
    expectRejected(
      () =>
        rulesetToArgv({
          services: [{ key: WEB, scheduler: "rr", realservers: [{ ...rs1, weight: -1 }] }],
        }),
      "services.0.realservers.0.weight",
      /whole number/,
    );
  });
});
