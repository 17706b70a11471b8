import { describe, expect, it } from "vitest";
import { isConsoleError } from "@/server/errors";
import { parseKeepalivedConfig } from "./config";
import { fixtureFiles, MAIN } from "./test-support";

const BROKEN = fixtureFiles("broken");
const broken = (name: string) => parseKeepalivedConfig(`/etc/keepalived/${name}.conf`, BROKEN);

describe("parseKeepalivedConfig on one file (single/)", () => {
  const config = parseKeepalivedConfig(MAIN, fixtureFiles("single"));

  it("understands all of it", () => {
    expect(config.findings).toEqual([]);
  });

  it("reads global_defs, the sync group and the VRRP instances", () => {
    expect(config.globalDefs?.routerId).toBe("LVS_A");
    expect(config.globalDefs?.lvsSyncDaemon).toMatchObject({
      interface: "eth1",
      instance: "VI_DIP",
      syncId: 51,
    });
    expect(config.syncGroups.map((g) => [g.name, g.members])).toEqual([
      ["VG_NAT", ["VI_VIP", "VI_DIP"]],
    ]);
    const [vip, dip] = config.vrrpInstances;
    expect(vip).toMatchObject({
      name: "VI_VIP",
      state: "BACKUP",
      interface: "eth0",
      virtualRouterId: 51,
      priority: 150,
      advertInt: 1,
      nopreempt: true,
      trackInterface: ["eth0", "eth1"],
    });
    expect(vip?.virtualIpaddress.map((a) => [a.address, a.prefix, a.dev, a.source.line])).toEqual([
      ["203.0.113.10", 24, "eth0", 28],
      ["203.0.113.20", 24, "eth0", 29],
    ]);
    expect(dip?.nopreempt).toBe(false);
    expect(dip?.virtualIpaddressExcluded.map((a) => [a.address, a.prefix])).toEqual([
      ["2001:db8:10::1", 64],
    ]);
  });

  it("reads each virtual_server with its settings, realservers and checkers, positioned", () => {
    const [http, https, dns, fwm] = config.virtualServers;
    expect(http).toMatchObject({
      target: { kind: "address", address: "203.0.113.10", port: 80 },
      protocol: "tcp",
      scheduler: "wrr",
      forward: "masq",
      delayLoop: 6,
      source: { file: MAIN, line: 48, column: 1 },
    });
    expect(http?.realServers.map((r) => [r.address, r.port, r.weight, r.source.line])).toEqual([
      ["10.10.0.11", 80, 3, 54],
      ["10.10.0.12", 80, 2, 66],
    ]);
    const checker = http?.realServers[0]?.checkers[0];
    expect(checker).toMatchObject({ kind: "HTTP_GET", source: { line: 56 } });
    expect(checker?.urls).toMatchObject([{ path: "/health", statusCode: "200", digest: null }]);
    expect(http?.realServers[1]?.checkers[0]?.urls[0]?.digest).toBe(
      "9b3a0c85a887a256d6939da88aabd8cd",
    );
    expect(https).toMatchObject({
      scheduler: "wlc",
      forward: "masq",
      persistenceTimeout: 600,
      persistenceGranularity: "255.255.255.0",
      quorum: 2,
      hysteresis: 1,
    });
    expect(https?.realServers.map((r) => r.inhibitOnFailure)).toEqual([true, true]);
    expect(dns).toMatchObject({ protocol: "udp", ops: true });
    expect(dns?.realServers.map((r) => r.checkers.map((c) => [c.kind, c.miscPath]))).toEqual([
      [["MISC_CHECK", "/usr/local/bin/check-dns 10.10.0.13"]],
      [["DNS_CHECK", null]],
    ]);
    expect(fwm).toMatchObject({
      target: { kind: "fwmark", mark: 7 },
      scheduler: "sh",
      schedFlags: ["sh-port"],
      persistenceTimeout: 300,
      sorryServer: { address: "10.10.0.99", port: 80 },
    });
    expect(fwm?.realServers.map((r) => [r.weight, r.checkers[0]?.kind])).toEqual([
      [2, "SMTP_CHECK"],
      [null, "SSL_GET"],
    ]);
  });
});

describe("global_defs", () => {
  it.each([
    ["lvs_sync_daemon eth0 inst VI_1 id 3 maxlen 1400", "VI_1", 3],
    ["lvs_sync_daemon eth0 VI_1 7", "VI_1", 7],
    ["lvs_sync_daemon eth0", null, null],
  ])("%s", (line, instance, syncId) => {
    const config = parseKeepalivedConfig(MAIN, {
      [MAIN]: `global_defs {\n  ${line}\n  lvs_flush\n}\n`,
    });
    expect(config.globalDefs?.lvsSyncDaemon).toMatchObject({ interface: "eth0", instance, syncId });
    expect(config.globalDefs?.lvsFlush).toBe(true);
  });
});

describe("parseKeepalivedConfig on main + include conf.d/*.conf (split/)", () => {
  const config = parseKeepalivedConfig(MAIN, fixtureFiles("split"));

  it("reads the included files in glob order, $VAR and ${VAR} substituted, braces on their own lines", () => {
    expect(config.includes.map((i) => i.matched)).toEqual([
      ["/etc/keepalived/conf.d/10-web.conf", "/etc/keepalived/conf.d/20-api.conf"],
      [],
    ]);
    expect(
      config.virtualServers.map((v) => [
        v.target,
        v.source.file,
        v.source.line,
        v.realServers.map((r) => r.weight),
      ]),
    ).toEqual([
      [
        { kind: "address", address: "203.0.113.30", port: 80 },
        "/etc/keepalived/conf.d/10-web.conf",
        2,
        [5, 5],
      ],
      [
        { kind: "address", address: "203.0.113.30", port: 8080 },
        "/etc/keepalived/conf.d/20-api.conf",
        1,
        [1, 1],
      ],
    ]);
    expect(config.virtualServers[1]?.realServers[0]?.checkers[0]?.miscDynamic).toBe(true);
    expect(config.vrrpInstances[0]).toMatchObject({
      state: "MASTER",
      lvsSyncDaemonInterface: "ens4",
    });
    expect(config.vrrpInstances[0]?.virtualIpaddress.map((a) => a.address)).toEqual([
      "203.0.113.30",
      "2001:db8::30",
    ]);
  });

  it("does not read a file the glob does not match, and warns about the missing brace-expanded ones", () => {
    expect(Object.keys(config.files)).not.toContain("/etc/keepalived/conf.d/README");
    expect(config.findings.map((f) => [f.severity, f.line, f.message])).toEqual([
      [
        "warning",
        26,
        "included file /etc/keepalived/conf.d/extra/a.conf does not exist: keepalived skips it",
      ],
      [
        "warning",
        26,
        "included file /etc/keepalived/conf.d/extra/b.conf does not exist: keepalived skips it",
      ],
    ]);
  });
});

describe("parseKeepalivedConfig on groups, IPv6 and fwmark (groups/)", () => {
  const config = parseKeepalivedConfig(MAIN, fixtureFiles("groups"));

  it("reads virtual_server_group entries: addresses, ranges and fwmarks", () => {
    expect(
      config.virtualServerGroups[0]?.entries.map((e) =>
        e.kind === "fwmark" ? e.mark : [e.first, e.last, e.port],
      ),
    ).toEqual([["203.0.113.40", "203.0.113.40", 80], ["203.0.113.41", "203.0.113.43", 80], 12]);
    expect(config.virtualServers[0]?.target).toEqual({ kind: "group", name: "WEB" });
  });

  it("keeps an unknown checker opaque but positioned, with a warning", () => {
    const rs = config.virtualServers[2]?.realServers[1];
    expect(rs?.checkers.map((c) => [c.kind, c.keyword, c.source.line])).toEqual([
      [null, "CUSTOM_PROBE", 57],
    ]);
    expect(config.findings.map((f) => [f.severity, f.line])).toEqual([["warning", 57]]);
  });

  it("reads IPv6 services, quorum scripts and a virtual_server without protocol", () => {
    expect(config.virtualServers[1]).toMatchObject({
      target: { kind: "address", address: "2001:db8::40", port: 443 },
      persistenceGranularity: "64",
    });
    expect(config.virtualServers[2]).toMatchObject({
      quorum: 3,
      quorumUp: "/usr/local/bin/page up",
      quorumDown: "/usr/local/bin/page down",
      forward: "route",
    });
    expect(config.virtualServers[3]).toMatchObject({
      protocol: null,
      scheduler: null,
      forward: null,
    });
  });
});

describe("broken configs: a clear finding with file and line, never a throw", () => {
  it("a missing brace", () => {
    expect(
      broken("missing-brace").findings.map((f) => [f.severity, f.file, f.line, f.message]),
    ).toEqual([
      [
        "error",
        "/etc/keepalived/missing-brace.conf",
        1,
        "the block of virtual_server is not closed: a '}' is missing",
      ],
    ]);
  });

  it("unknown keywords, a bad value and an extra brace", () => {
    expect(broken("unknown-keyword").findings.map((f) => [f.severity, f.line, f.message])).toEqual([
      ["error", 6, "unknown keyword wieght in real_server"],
      ["error", 11, "unknown keyword virtual_sever: keepalived ignores it"],
      ["error", 20, 'weight "lots" is not a whole number from 0 to 2147483647'],
      ["error", 23, "an extra '}' closes no block"],
    ]);
  });

  it("a missing include, a conditional line and an undefined $VAR", () => {
    expect(broken("missing-include").findings.map((f) => [f.severity, f.line])).toEqual([
      ["warning", 1],
      ["error", 3],
      ["warning", 8],
      ["error", 8],
    ]);
  });

  it("throws PARSE_ERROR naming the file and line only when asked for strict", () => {
    let caught: unknown = null;
    try {
      parseKeepalivedConfig("/etc/keepalived/unknown-keyword.conf", BROKEN, { strict: true });
    } catch (error) {
      caught = error;
    }
    expect(isConsoleError(caught, "PARSE_ERROR")).toBe(true);
    expect(isConsoleError(caught) && caught.details).toMatchObject({
      file: "/etc/keepalived/unknown-keyword.conf",
      lineNumber: 6,
    });
    expect(() =>
      parseKeepalivedConfig(MAIN, fixtureFiles("single"), { strict: true }),
    ).not.toThrow();
  });

  it("survives every truncation and random garbage", () => {
    const text = fixtureFiles("single")[MAIN] ?? "";
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const alphabet = ' {}"#!$\\\n\tab1.:/@~=';
    for (let cut = 0; cut < text.length; cut += 37) {
      const garbage = Array.from(
        { length: 40 },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
      for (const variant of [
        text.slice(0, cut),
        text.slice(cut),
        `${text.slice(0, cut)}${garbage}${text.slice(cut)}`,
      ]) {
        const config = parseKeepalivedConfig(MAIN, { [MAIN]: variant });
        expect(config.files[MAIN]).toBe(variant);
      }
    }
  });
});
