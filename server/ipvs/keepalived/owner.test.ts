import { describe, expect, it } from "vitest";
import { type RealserverRule, type RuleSet, type ServiceKey } from "@/server/ipvs/model";
import { parseKeepalivedConfig } from "./config";
import { parseCheckDump } from "./dump";
import { ownership, type OwnerReport } from "./owner";
import { debianAutoLoads, readRulesFile } from "./rules-file";
import { fixtureFiles, fixtureText, MAIN } from "./test-support";
import { undoNote } from "./undo";

const config = parseKeepalivedConfig(MAIN, fixtureFiles("single"));
const check = parseCheckDump(fixtureText("dumps/keepalived_check.data"));

function rs(address: string, port: number, weight: number): RealserverRule {
  return {
    address,
    port,
    forward: "masq",
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnel: null,
  };
}

function service(
  key: ServiceKey,
  scheduler: RuleSet["services"][number]["scheduler"],
  realservers: RealserverRule[],
  timeout: number | null = null,
) {
  return {
    key,
    scheduler,
    persistence:
      timeout === null ? null : { timeout, netmask: timeout === 600 ? "255.255.255.0" : null },
    ops: false,
    schedFlags: [],
    pe: null,
    realservers,
  };
}

const HTTP: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 80 };
const HTTPS: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 443 };
const DNS: ServiceKey = { kind: "udp", address: "203.0.113.20", port: 53 };
const FWM: ServiceKey = { kind: "fwm", mark: 7, family: "inet" };
const HAND: ServiceKey = { kind: "tcp", address: "198.51.100.1", port: 80 };

/** The kernel as keepalived left it (checker states as in the dump), then touched by hand. */
const kernel: RuleSet = {
  services: [
    service(HTTP, "wrr", [rs("10.10.0.11", 80, 0), rs("10.10.0.12", 80, 2)]),
    service(HTTPS, "wlc", [rs("10.10.0.11", 443, 0), rs("10.10.0.12", 443, 1)], 600),
    service(DNS, "rr", [rs("10.10.0.14", 53, 1)]),
    service(
      FWM,
      "rr",
      [rs("10.10.0.11", 80, 2), rs("10.10.0.12", 80, 1), rs("10.10.0.50", 80, 1)],
      300,
    ),
    service(HAND, "rr", [rs("10.50.0.1", 80, 0), rs("10.50.0.9", 80, 1)]),
  ],
};

function drift(report: OwnerReport, key: ServiceKey) {
  const s = report.services.find((x) => JSON.stringify(x.key) === JSON.stringify(key));
  return {
    owner: s?.owner,
    service: s?.drift.map((d) => [d.kind, d.expected, d.message]),
    members: s?.realservers.map((r) => [
      `${r.address}:${r.port}`,
      r.owner.kind === "keepalived" ? `keepalived:${r.owner.line}` : r.owner.kind,
      r.checker,
      r.drift.map((d) => [d.kind, "reason" in d ? d.reason : null, d.expected, d.message]),
    ]),
  };
}

describe("owner and drift with keepalived running and its checker dump", () => {
  const report = ownership({ kernel, keepalived: { config, running: true, check } });

  it("tells a runtime drain from a checker holding a realserver at 0", () => {
    expect(drift(report, HTTP)).toEqual({
      owner: { kind: "keepalived", file: MAIN, line: 48 },
      service: [],
      members: [
        [
          "10.10.0.11:80",
          "keepalived:54",
          "up",
          [
            [
              "weight",
              "drained",
              false,
              "keepalived: weight 3, kernel 0: drained at runtime; keepalived puts 3 back when its checker recovers or it restarts",
            ],
          ],
        ],
        ["10.10.0.12:80", "keepalived:66", "up", []],
      ],
    });
    expect(drift(report, HTTPS).members).toEqual([
      [
        "10.10.0.11:443",
        "keepalived:89",
        "down",
        [["weight", "checker-down", true, "keepalived: weight 1, kernel 0: checker down"]],
      ],
      ["10.10.0.12:443", "keepalived:96", "up", []],
    ]);
  });

  it("expects a checker-down member without inhibit_on_failure to be missing", () => {
    expect(drift(report, DNS).members).toEqual([
      [
        "10.10.0.13:53",
        "keepalived:112",
        "down",
        [["member-missing", "checker-down", true, "keepalived: removed while its checker is down"]],
      ],
      ["10.10.0.14:53", "keepalived:119", "up", []],
    ]);
  });

  it("flags a member keepalived does not know and a scheduler changed at runtime", () => {
    const fwm = drift(report, FWM);
    expect(fwm.service).toEqual([
      ["setting", false, "keepalived: scheduler sh, kernel rr: changed at runtime"],
    ]);
    expect(fwm.members?.[2]).toEqual([
      "10.10.0.50:80",
      "runtime",
      null,
      [
        [
          "member-unknown",
          null,
          false,
          "runtime only: keepalived's config does not have it; lost when keepalived restarts or the director reboots",
        ],
      ],
    ]);
  });

  it("marks a service nobody owns as lost at reboot", () => {
    expect(drift(report, HAND)).toMatchObject({
      owner: { kind: "runtime" },
      service: [["runtime-only", false, "runtime only: lost at reboot"]],
    });
  });

  it("says what undoes a runtime change, per owner", () => {
    const members = report.services.flatMap((s) => s.realservers);
    expect(members[0]?.undo).toBe(
      "runtime only: keepalived will put weight 3 back when its checker recovers or it restarts",
    );
    expect(members.find((m) => m.address === "10.50.0.1")?.undo).toBe(
      "runtime only: lost at reboot",
    );
  });
});

describe("owner and drift without the checker dump, or with keepalived stopped", () => {
  it("does not guess a checker state it has not read", () => {
    const report = ownership({ kernel, keepalived: { config, running: true, check: null } });
    expect(drift(report, HTTPS).members?.[0]?.[3]).toEqual([
      [
        "weight",
        "checker-state-unknown",
        false,
        "keepalived: weight 1, kernel 0: checker down or drained at runtime (keepalived's checker state not read)",
      ],
    ]);
    expect(drift(report, DNS).members?.[0]?.[3]).toEqual([
      [
        "member-missing",
        "checker-state-unknown",
        false,
        `in keepalived's config (${MAIN}:112), not in the kernel: its checker is down or it was removed at runtime (keepalived's checker state not read)`,
      ],
    ]);
  });

  it("reports a configured service the kernel lacks", () => {
    const report = ownership({
      kernel: { services: kernel.services.slice(1) },
      keepalived: { config, running: true, check },
    });
    expect(drift(report, HTTP).service).toEqual([
      [
        "service-missing",
        false,
        `in keepalived's config (${MAIN}:48), not in the kernel: deleted at runtime; keepalived adds it back when it restarts`,
      ],
    ]);
  });

  it("says a runtime-only service also goes when keepalived restarts with lvs_flush", () => {
    const flushing = parseKeepalivedConfig(MAIN, {
      ...fixtureFiles("single"),
      [MAIN]: `global_defs {\n  lvs_flush\n}\n${fixtureFiles("single")[MAIN] ?? ""}`,
    });
    const report = ownership({ kernel, keepalived: { config: flushing, running: true, check } });
    expect(drift(report, HAND).service).toEqual([
      [
        "runtime-only",
        false,
        "runtime only: lost at reboot, and when keepalived restarts (its lvs_flush empties IPVS)",
      ],
    ]);
  });

  it("owns nothing when keepalived is not running", () => {
    const report = ownership({ kernel, keepalived: { config, running: false, check: null } });
    expect(report.services.every((s) => s.owner.kind === "runtime")).toBe(true);
  });
});

describe("owner and drift with a rules file", () => {
  const text = [
    "-A -t 198.51.100.1:80 -s rr",
    "-a -t 198.51.100.1:80 -r 10.50.0.1:80 -m -w 3",
    "-a -t 198.51.100.1:80 -r 10.50.0.2:80 -m -w 1",
    "-A -u 198.51.100.2:53 -s rr",
    "-a -u 198.51.100.2:53 -r 10.50.0.3:53 -m -w 1",
    "",
  ].join("\n");
  const runtimeOnly: RuleSet = { services: [kernel.services[4] ?? service(HAND, "rr", [])] };

  it("owns what a boot loads, and lists how the kernel differs from the file", () => {
    const report = ownership({
      kernel: runtimeOnly,
      rulesFile: readRulesFile("/etc/ipvsadm.rules", text, true),
    });
    expect(report.rulesFile).toEqual({
      path: "/etc/ipvsadm.rules",
      bootLoads: true,
      differs: true,
      error: null,
    });
    expect(drift(report, HAND)).toEqual({
      owner: { kind: "rules-file", path: "/etc/ipvsadm.rules" },
      service: [],
      members: [
        [
          "10.50.0.1:80",
          "rules-file",
          null,
          [
            [
              "weight",
              "drained",
              false,
              "/etc/ipvsadm.rules: weight 3, kernel 0: a reboot puts 3 back",
            ],
          ],
        ],
        [
          "10.50.0.2:80",
          "rules-file",
          null,
          [
            [
              "member-missing",
              null,
              false,
              "in /etc/ipvsadm.rules, not in the kernel: a reboot adds it back",
            ],
          ],
        ],
        [
          "10.50.0.9:80",
          "runtime",
          null,
          [
            [
              "member-unknown",
              null,
              false,
              "runtime only: not in /etc/ipvsadm.rules; lost at reboot",
            ],
          ],
        ],
      ],
    });
    expect(drift(report, { kind: "udp", address: "198.51.100.2", port: 53 }).service).toEqual([
      ["service-missing", false, "in /etc/ipvsadm.rules, not in the kernel: a reboot adds it back"],
    ]);
  });

  it("says so when the file exists but nothing loads it at boot", () => {
    const report = ownership({
      kernel: runtimeOnly,
      rulesFile: readRulesFile("/etc/ipvsadm.rules", text, false),
    });
    expect(drift(report, HAND).service).toEqual([
      [
        "runtime-only",
        false,
        "runtime only: lost at reboot (/etc/ipvsadm.rules has it, but nothing loads it at boot)",
      ],
    ]);
    expect(report.services).toHaveLength(1);
  });

  it("reports a rules file that does not parse instead of throwing", () => {
    const file = readRulesFile("/etc/ipvsadm.rules", "-A -t nonsense\n", true);
    expect(file.rules).toBeNull();
    expect(file.error).toMatch(/^\/etc\/ipvsadm\.rules: ipvsadm -Sn, line 1/);
    expect(ownership({ kernel: runtimeOnly, rulesFile: file }).rulesFile?.error).toBe(file.error);
  });

  it("reads Debian's AUTO switch", () => {
    expect(debianAutoLoads('# ipvsadm\nAUTO="true"\nDAEMON="none"\n')).toBe(true);
    expect(debianAutoLoads('AUTO="false"\n')).toBe(false);
    expect(debianAutoLoads("AUTO=true # restore at boot\n")).toBe(true);
    expect(debianAutoLoads("")).toBe(false);
  });
});

describe("undoNote", () => {
  it.each([
    [
      { kind: "keepalived", weight: 3, inhibitOnFailure: true } as const,
      "remove",
      "runtime only: keepalived will add it back with weight 3 when it restarts",
    ],
    [
      { kind: "keepalived", weight: 3, inhibitOnFailure: false } as const,
      "remove",
      "runtime only: keepalived will add it back with weight 3 when it restarts or its checker fails and recovers",
    ],
    [
      { kind: "rules-file", path: "/etc/ipvsadm.rules", weight: 2 } as const,
      "weight",
      "runtime only: /etc/ipvsadm.rules puts weight 2 back at reboot",
    ],
    [
      { kind: "rules-file", path: "/etc/ipvsadm.rules", weight: 2 } as const,
      "add",
      "runtime only: not in /etc/ipvsadm.rules; lost at reboot",
    ],
    [{ kind: "runtime" } as const, "weight", "runtime only: lost at reboot"],
  ] as const)("%o %s", (owner, change, text) => {
    expect(undoNote(owner, change)).toBe(text);
  });
});
