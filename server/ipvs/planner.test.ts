import { describe, expect, it } from "vitest";
import { ConsoleError, type RefusalReason } from "@/server/errors";
import type { RealserverRule, RuleSet, ServiceKey, ServiceState } from "./model";
import { changeSchema, type ChangeInput } from "./change";
import { drainTargets, plan, planOrThrow, type Plan } from "./planner";

const WEB: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 80 };
const ALT: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 8080 };
const TLS: ServiceKey = { kind: "tcp", address: "203.0.113.11", port: 443 };
const DNS: ServiceKey = { kind: "udp", address: "203.0.113.10", port: 53 };
const NTP: ServiceKey = { kind: "udp", address: "203.0.113.10", port: 123 };
const V6: ServiceKey = { kind: "tcp", address: "2001:db8:100::10", port: 80 };
const FWM: ServiceKey = { kind: "fwm", mark: 1, family: "inet" };

function member(
  address: string,
  port: number,
  weight: number,
  more: Partial<RealserverRule> = {},
): RealserverRule {
  return {
    address,
    port,
    forward: "masq",
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnel: null,
    ...more,
  };
}

/**
 * The lab director's rules (__fixtures__/ipvsadm-Sn.txt), with thresholds 100/50 on rs1 of
 * :80 and FWM 1, as in LAB-RECIPE's -e experiment (-S does not save thresholds).
 */
const FIXTURE: RuleSet = {
  services: [
    {
      key: WEB,
      scheduler: "rr",
      persistence: { timeout: 300, netmask: null },
      ops: false,
      schedFlags: [],
      pe: null,
      realservers: [
        member("10.10.0.11", 80, 1, { upperThreshold: 100, lowerThreshold: 50 }),
        member("10.10.0.12", 80, 1),
        member("10.10.0.13", 80, 1),
      ],
    },
    {
      key: ALT,
      scheduler: "wrr",
      persistence: null,
      ops: false,
      schedFlags: [],
      pe: null,
      realservers: [
        member("10.10.0.11", 80, 3),
        member("10.10.0.12", 80, 2),
        member("10.10.0.13", 80, 0),
      ],
    },
    {
      key: TLS,
      scheduler: "wlc",
      persistence: { timeout: 120, netmask: "255.255.255.0" },
      ops: false,
      schedFlags: [],
      pe: null,
      realservers: [
        member("10.10.0.13", 443, 2),
        member("10.10.0.14", 443, 1, { forward: "route" }),
        member("10.10.0.15", 443, 1, {
          forward: "tunnel",
          tunnel: { type: "ipip", port: null, noChecksum: false },
        }),
      ],
    },
    {
      key: DNS,
      scheduler: "sh",
      persistence: null,
      ops: false,
      schedFlags: ["sh-fallback", "sh-port"],
      pe: null,
      realservers: [member("10.10.0.11", 53, 1), member("10.10.0.12", 53, 1)],
    },
    {
      key: NTP,
      scheduler: "rr",
      persistence: null,
      ops: true,
      schedFlags: [],
      pe: null,
      realservers: [member("10.10.0.13", 123, 1)],
    },
    {
      key: V6,
      scheduler: "rr",
      persistence: null,
      ops: false,
      schedFlags: [],
      pe: null,
      realservers: [member("2001:db8:200::11", 80, 1), member("2001:db8:200::12", 80, 1)],
    },
    {
      key: FWM,
      scheduler: "mh",
      persistence: null,
      ops: false,
      schedFlags: ["mh-fallback", "mh-port"],
      pe: null,
      realservers: [
        member("10.10.0.11", 80, 1, { upperThreshold: 100, lowerThreshold: 50 }),
        member("10.10.0.12", 80, 1),
      ],
    },
  ],
};

/** The same rules as a poll delivers them: ServiceState with counters. */
const POLLED: ServiceState[] = FIXTURE.services.map((s) => ({
  ...s,
  counters: null,
  rates: null,
  realservers: s.realservers.map((rs) => ({
    ...rs,
    activeConns: 3,
    inactiveConns: 10,
    persistentConns: null,
    counters: null,
    rates: null,
  })),
}));

function steps(p: Plan): string[][] {
  if (!p.ok) throw new Error(`expected a plan, got a refusal: ${p.reason}: ${p.message}`);
  return p.steps.map((s) => s.argv);
}

function refusal(p: Plan): { reason: string; message: string; fields?: Record<string, string> } {
  if (p.ok) throw new Error(`expected a refusal, got ${p.steps.length} steps`);
  return p;
}

describe("drain", () => {
  it("plans weight 0 on every service rs1:80 serves, keeping -m and the thresholds", () => {
    const p = plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.11", port: 80 } });
    expect(steps(p)).toEqual([
      [
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
      ],
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.10:8080",
        "-r",
        "10.10.0.11:80",
        "-m",
        "-w",
        "0",
        "-x",
        "0",
        "-y",
        "0",
      ],
      ["ipvsadm", "-e", "-f", "1", "-r", "10.10.0.11:80", "-m", "-w", "0", "-x", "100", "-y", "50"],
    ]);
    expect(p.ok && p.steps[0]?.description).toBe(
      "Drain 10.10.0.11:80 in TCP 203.0.113.10:80 (weight 1 to 0)",
    );
  });

  it("plans the same from polled state (ServiceState, with counters)", () => {
    const fromPoll = plan(POLLED, {
      kind: "drain",
      realserver: { address: "10.10.0.11", port: 80 },
    });
    expect(fromPoll).toEqual(
      plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.11", port: 80 } }),
    );
  });

  it("without a port, drains the address on every port", () => {
    const argv = steps(plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.11" } }));
    expect(argv.map((a) => a[5])).toEqual([
      "10.10.0.11:80",
      "10.10.0.11:80",
      "10.10.0.11:53",
      "10.10.0.11:80",
    ]);
    expect(argv[2]).toEqual([
      "ipvsadm",
      "-e",
      "-u",
      "203.0.113.10:53",
      "-r",
      "10.10.0.11:53",
      "-m",
      "-w",
      "0",
      "-x",
      "0",
      "-y",
      "0",
    ]);
  });

  it("keeps route and tunnel forwarding for those members", () => {
    expect(steps(plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.14" } }))).toEqual([
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.11:443",
        "-r",
        "10.10.0.14:443",
        "-g",
        "-w",
        "0",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ]);
    expect(
      steps(plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.15", port: 443 } })),
    ).toEqual([
      [
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
        "0",
        "-y",
        "0",
        "--tun-type",
        "ipip",
      ],
    ]);
  });

  it("skips services where the weight is already 0", () => {
    // rs3 has weight 0 on :8080 already.
    expect(
      steps(plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.13", port: 80 } })),
    ).toEqual([
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.10:80",
        "-r",
        "10.10.0.13:80",
        "-m",
        "-w",
        "0",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ]);
  });

  it("drains IPv6 members, matching the address however it was written", () => {
    expect(
      steps(plan(FIXTURE, { kind: "drain", realserver: { address: "2001:DB8:200:0::11" } })),
    ).toEqual([
      [
        "ipvsadm",
        "-e",
        "-t",
        "[2001:db8:100::10]:80",
        "-r",
        "[2001:db8:200::11]:80",
        "-m",
        "-w",
        "0",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ]);
  });

  it("refuses when the realserver serves nowhere, or is drained everywhere already", () => {
    expect(
      refusal(plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.99" } })).reason,
    ).toBe("no-such-realserver");
    expect(
      refusal(plan(FIXTURE, { kind: "drain", realserver: { address: "10.10.0.11", port: 8080 } }))
        .reason,
    ).toBe("no-such-realserver");
    const drained: RuleSet = {
      services: FIXTURE.services.map((s) => ({
        ...s,
        realservers: s.realservers.map((rs) => ({ ...rs, weight: 0 })),
      })),
    };
    const r = refusal(
      plan(drained, { kind: "drain", realserver: { address: "10.10.0.11", port: 80 } }),
    );
    expect(r).toMatchObject({
      reason: "would-change-nothing",
      message: "10.10.0.11:80 already has weight 0 everywhere it serves",
    });
  });

  it("drainTargets lists each (service, member rule) pair, without counters", () => {
    const targets = drainTargets(POLLED, { address: "10.10.0.11", port: 80 });
    expect(targets.map((t) => t.service)).toEqual([WEB, ALT, FWM]);
    expect(targets[0]?.realserver).toEqual(
      member("10.10.0.11", 80, 1, { upperThreshold: 100, lowerThreshold: 50 }),
    );
    expect(drainTargets(FIXTURE, { address: "not an address" })).toEqual([]);
  });
});

describe("undrain", () => {
  const drained: RuleSet = {
    services: FIXTURE.services.map((s) => ({
      ...s,
      realservers: s.realservers.map((rs) =>
        rs.address === "10.10.0.11" && rs.port === 80 ? { ...rs, weight: 0 } : rs,
      ),
    })),
  };
  const recorded = [
    { service: WEB, port: 80, weight: 1 },
    { service: ALT, port: 80, weight: 3 },
    { service: FWM, port: 80, weight: 1 },
  ];

  it("restores the recorded weights, keeping every other attribute", () => {
    expect(
      steps(
        plan(drained, {
          kind: "undrain",
          realserver: { address: "10.10.0.11", port: 80 },
          weights: recorded,
        }),
      ),
    ).toEqual([
      [
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
        "100",
        "-y",
        "50",
      ],
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.10:8080",
        "-r",
        "10.10.0.11:80",
        "-m",
        "-w",
        "3",
        "-x",
        "0",
        "-y",
        "0",
      ],
      ["ipvsadm", "-e", "-f", "1", "-r", "10.10.0.11:80", "-m", "-w", "1", "-x", "100", "-y", "50"],
    ]);
  });

  it("skips members already back at their weight", () => {
    expect(
      steps(
        plan(FIXTURE, {
          kind: "undrain",
          realserver: { address: "10.10.0.11" },
          weights: [...recorded, { service: DNS, port: 53, weight: 4 }],
        }),
      ),
    ).toEqual([
      [
        "ipvsadm",
        "-e",
        "-u",
        "203.0.113.10:53",
        "-r",
        "10.10.0.11:53",
        "-m",
        "-w",
        "4",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ]);
  });

  const gone = {
    service: { kind: "tcp" as const, address: "203.0.113.99", port: 80 },
    port: 80,
    weight: 1,
  };
  it.each<[string, RefusalReason, RuleSet, ChangeInput]>([
    [
      "when every member is back at its weight",
      "would-change-nothing",
      FIXTURE,
      { kind: "undrain", realserver: { address: "10.10.0.11" }, weights: recorded },
    ],
    [
      "when a recorded service is gone",
      "no-such-service",
      drained,
      { kind: "undrain", realserver: { address: "10.10.0.11" }, weights: [gone] },
    ],
    [
      "when the member is gone",
      "no-such-realserver",
      drained,
      { kind: "undrain", realserver: { address: "10.10.0.99" }, weights: recorded },
    ],
  ])("refuses %s: %s", (_what, reason, state, change) => {
    expect(refusal(plan(state, change)).reason).toBe(reason);
  });

  it("refuses a recorded port other than the drained one", () => {
    const r = refusal(
      plan(drained, {
        kind: "undrain",
        realserver: { address: "10.10.0.11", port: 80 },
        weights: [{ service: DNS, port: 53, weight: 1 }],
      }),
    );
    expect(r).toMatchObject({
      reason: "invalid",
      fields: { "weights.0.port": expect.stringMatching(/not port 53/) as string },
    });
  });
});

describe("setWeight", () => {
  it("edits one member, repeating its attributes", () => {
    const p = plan(FIXTURE, {
      kind: "setWeight",
      service: TLS,
      realserver: { address: "10.10.0.14", port: 443 },
      weight: 5,
    });
    expect(steps(p)).toEqual([
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.11:443",
        "-r",
        "10.10.0.14:443",
        "-g",
        "-w",
        "5",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ]);
    expect(p.ok && p.steps[0]?.description).toBe(
      "Set the weight of 10.10.0.14:443 in TCP 203.0.113.11:443 from 1 to 5",
    );
  });

  const base = {
    kind: "setWeight",
    realserver: { address: "10.10.0.11", port: 80 },
    weight: 5,
  } as const;
  it.each<[string, RefusalReason, ChangeInput]>([
    ["an unknown service", "no-such-service", { ...base, service: { ...WEB, port: 81 } }],
    [
      "an unknown member",
      "no-such-realserver",
      { ...base, service: WEB, realserver: { address: "10.10.0.99", port: 80 } },
    ],
    ["the weight it already has", "would-change-nothing", { ...base, service: WEB, weight: 1 }],
  ])("refuses %s: %s", (_what, reason, change) => {
    expect(refusal(plan(FIXTURE, change)).reason).toBe(reason);
  });

  it("refuses an invalid weight with the field named", () => {
    const r = refusal(
      plan(FIXTURE, {
        kind: "setWeight",
        service: WEB,
        realserver: { address: "10.10.0.11", port: 80 },
        weight: -1,
      }),
    );
    expect(r.reason).toBe("invalid");
    expect(r.fields).toHaveProperty(["weight"]);
    expect(r.message).toMatch(/^weight: a weight is a whole number/);
  });
});

describe("realserver changes", () => {
  const rs4 = { address: "10.10.0.14", port: 80, forward: "masq", weight: 2 } as const;
  const desired = {
    address: "10.10.0.12",
    port: 80,
    forward: "masq",
    weight: 1,
    upperThreshold: 200,
    lowerThreshold: 100,
  } as const;

  it("adds a member", () => {
    expect(steps(plan(FIXTURE, { kind: "addRealserver", service: WEB, realserver: rs4 }))).toEqual([
      ["ipvsadm", "-a", "-t", "203.0.113.10:80", "-r", "10.10.0.14:80", "-m", "-w", "2"],
    ]);
  });

  it.each<[string, RefusalReason, ChangeInput]>([
    [
      "to add a member that is already there",
      "already-a-member",
      { kind: "addRealserver", service: WEB, realserver: { ...rs4, address: "10.10.0.12" } },
    ],
    [
      "to add a member to a service that is not there",
      "no-such-service",
      { kind: "addRealserver", service: { ...WEB, address: "203.0.113.99" }, realserver: rs4 },
    ],
    [
      "an edit to the rule the member already has",
      "would-change-nothing",
      {
        kind: "editRealserver",
        service: WEB,
        realserver: { ...desired, upperThreshold: 0, lowerThreshold: 0 },
      },
    ],
    [
      "to edit a member that is not there",
      "no-such-realserver",
      { kind: "editRealserver", service: WEB, realserver: rs4 },
    ],
    [
      "to remove a member that is not there",
      "no-such-realserver",
      { kind: "removeRealserver", service: FWM, realserver: { address: "10.10.0.13", port: 80 } },
    ],
  ])("refuses %s: %s", (_what, reason, change) => {
    expect(refusal(plan(FIXTURE, change)).reason).toBe(reason);
  });

  it("refuses cross-field mistakes as invalid, naming the field", () => {
    const r = refusal(plan(FIXTURE, { kind: "addRealserver", service: V6, realserver: rs4 }));
    expect(r).toMatchObject({
      reason: "invalid",
      fields: { "realserver.address": expect.stringMatching(/only for tunnel/) as string },
    });
    const t = refusal(
      plan(FIXTURE, {
        kind: "editRealserver",
        service: ALT,
        realserver: { ...rs4, address: "10.10.0.11", forward: "route" },
      }),
    );
    expect(t.fields).toHaveProperty(["realserver.port"]);
  });

  it("edits a member to the full desired rule", () => {
    expect(
      steps(plan(FIXTURE, { kind: "editRealserver", service: WEB, realserver: desired })),
    ).toEqual([
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.10:80",
        "-r",
        "10.10.0.12:80",
        "-m",
        "-w",
        "1",
        "-x",
        "200",
        "-y",
        "100",
      ],
    ]);
  });

  it("removes a member", () => {
    expect(
      steps(
        plan(FIXTURE, {
          kind: "removeRealserver",
          service: FWM,
          realserver: { address: "10.10.0.12", port: 80 },
        }),
      ),
    ).toEqual([["ipvsadm", "-d", "-f", "1", "-r", "10.10.0.12:80"]]);
  });
});

describe("service changes", () => {
  it("adds a service, then its members, in order", () => {
    const p = plan(FIXTURE, {
      kind: "addService",
      service: { key: { kind: "tcp", address: "203.0.113.20", port: 80 }, scheduler: "wlc" },
      realservers: [
        { address: "10.10.0.11", port: 80, forward: "masq", weight: 1 },
        { address: "10.10.0.12", port: 8000, forward: "masq", weight: 2 },
      ],
    });
    expect(steps(p)).toEqual([
      ["ipvsadm", "-A", "-t", "203.0.113.20:80", "-s", "wlc"],
      ["ipvsadm", "-a", "-t", "203.0.113.20:80", "-r", "10.10.0.11:80", "-m", "-w", "1"],
      ["ipvsadm", "-a", "-t", "203.0.113.20:80", "-r", "10.10.0.12:8000", "-m", "-w", "2"],
    ]);
  });

  it("adds a service with no members (realservers default to none)", () => {
    expect(
      steps(
        plan(FIXTURE, {
          kind: "addService",
          service: { key: { kind: "fwm", mark: 2 }, scheduler: "rr" },
        }),
      ),
    ).toEqual([["ipvsadm", "-A", "-f", "2", "-s", "rr"]]);
  });

  it.each<[string, RefusalReason, ChangeInput]>([
    [
      "to add a service that exists",
      "service-exists",
      { kind: "addService", service: { key: WEB, scheduler: "rr" } },
    ],
    [
      "an edit to the rule the service already has (flags in another order)",
      "would-change-nothing",
      {
        kind: "editService",
        service: { key: DNS, scheduler: "sh", schedFlags: ["sh-port", "sh-fallback"] },
      },
    ],
    [
      "to edit a service that is not there",
      "no-such-service",
      { kind: "editService", service: { key: { ...DNS, port: 54 }, scheduler: "sh" } },
    ],
    [
      "to delete a service that is not there",
      "no-such-service",
      { kind: "deleteService", service: { kind: "fwm", mark: 9 } },
    ],
  ])("refuses %s: %s", (_what, reason, change) => {
    expect(refusal(plan(FIXTURE, change)).reason).toBe(reason);
  });

  it("refuses members listed twice and bad service rules, naming the field", () => {
    const twice = { address: "10.10.0.11", port: 80, forward: "masq", weight: 1 } as const;
    expect(
      refusal(
        plan(FIXTURE, {
          kind: "addService",
          service: { key: { ...WEB, port: 81 }, scheduler: "rr" },
          realservers: [twice, twice],
        }),
      ).fields,
    ).toHaveProperty(["realservers.1"]);
    expect(
      refusal(
        plan(FIXTURE, {
          kind: "addService",
          service: { key: { ...WEB, port: 81 }, scheduler: "rr", schedFlags: ["sh-port"] },
        }),
      ).fields,
    ).toHaveProperty(["service.schedFlags"]);
  });

  it("edits a service with every attribute", () => {
    expect(
      steps(
        plan(FIXTURE, {
          kind: "editService",
          service: { key: WEB, scheduler: "wlc", persistence: { timeout: 600 } },
        }),
      ),
    ).toEqual([["ipvsadm", "-E", "-t", "203.0.113.10:80", "-s", "wlc", "-p", "600"]]);
  });

  it("deletes a service in one step (-D removes its members)", () => {
    const p = plan(FIXTURE, { kind: "deleteService", service: WEB });
    expect(steps(p)).toEqual([["ipvsadm", "-D", "-t", "203.0.113.10:80"]]);
    expect(p.ok && p.steps[0]?.description).toBe(
      "Delete virtual service TCP 203.0.113.10:80 and its 3 realservers",
    );
  });
});

describe("setSysctl", () => {
  const change: ChangeInput = {
    kind: "setSysctl",
    setting: { name: "expire_quiescent_template", value: 1 },
  };

  it("sets one sysctl", () => {
    expect(steps(plan(FIXTURE, change))).toEqual([
      ["sysctl", "-w", "net.ipv4.vs.expire_quiescent_template=1"],
    ]);
  });

  it("refuses a no-op when the current sysctls are known, and values the sysctl does not take", () => {
    expect(
      refusal(plan(FIXTURE, change, { sysctls: { expire_quiescent_template: [1] } })).reason,
    ).toBe("would-change-nothing");
    expect(
      steps(plan(FIXTURE, change, { sysctls: { expire_quiescent_template: [0] } })),
    ).toHaveLength(1);
    const r = refusal(
      plan(FIXTURE, { kind: "setSysctl", setting: { name: "sloppy_tcp", value: 5 } }),
    );
    expect(r).toMatchObject({
      reason: "invalid",
      fields: { "setting.value": "net.ipv4.vs.sloppy_tcp accepts 0 or 1, not 5" },
    });
  });
});

describe("changeSchema and planOrThrow", () => {
  it("refuses unknown kinds and garbage as invalid", () => {
    // What a hand-made request could send, past the types.
    for (const garbage of [{ kind: "rebootDirector" }, "drain everything", null]) {
      expect(refusal(plan(FIXTURE, garbage as unknown as ChangeInput)).reason).toBe("invalid");
    }
    expect(
      changeSchema.safeParse({ kind: "drain", realserver: { address: "10.10.0.11" } }).success,
    ).toBe(true);
  });

  it("throws refusals as REFUSED and invalid changes as VALIDATION", () => {
    expect(planOrThrow(FIXTURE, { kind: "deleteService", service: WEB })).toHaveLength(1);
    try {
      planOrThrow(FIXTURE, { kind: "deleteService", service: { kind: "fwm", mark: 9 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConsoleError);
      expect(e).toMatchObject({ code: "REFUSED", details: { reason: "no-such-service" } });
    }
    try {
      planOrThrow(FIXTURE, {
        kind: "setWeight",
        service: WEB,
        realserver: { address: "10.10.0.11", port: 80 },
        weight: 1.5,
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        code: "VALIDATION",
        details: { fields: { weight: expect.any(String) as string } },
      });
    }
  });
});
