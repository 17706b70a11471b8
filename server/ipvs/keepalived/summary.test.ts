import { describe, expect, it } from "vitest";
import { parseKeepalivedConfig } from "./config";
import { parseCheckDump, parseVrrpDump } from "./dump";
import { ownership } from "./owner";
import { programmedServices } from "./program";
import { summarizeOwnership, vrrpRole } from "./summary";
import { fixtureFiles, fixtureText, MAIN } from "./test-support";

function first<T>(items: readonly T[]): T {
  const item = items[0];
  if (item === undefined) throw new Error("the fixture has no item");
  return item;
}

describe("summarizeOwnership", () => {
  const config = parseKeepalivedConfig(MAIN, fixtureFiles("single"));
  const check = parseCheckDump(fixtureText("dumps/keepalived_check.data"));
  // The kernel exactly as keepalived programs it with the dump's checker states.
  const kernel = {
    services: programmedServices(config).services.map((s) => ({
      ...s,
      realservers: s.realservers
        .filter((r) => !(r.address === "10.10.0.13" && r.port === 53))
        .map((r) => ({
          ...r,
          weight: r.address === "10.10.0.11" && r.port === 443 ? 0 : r.weight,
        })),
    })),
  };

  it("counts only expected drift when the kernel is what keepalived made it", () => {
    const report = ownership({ kernel, keepalived: { config, running: true, check } });
    expect(summarizeOwnership(report)).toEqual({
      owner: "keepalived",
      services: 4,
      unexpectedDrift: 0,
      expectedDrift: 2,
    });
  });

  it("notices a forwarding method changed at runtime, and a mixed owner", () => {
    const changed = {
      services: [
        ...kernel.services.map((s, i) =>
          i === 0
            ? { ...s, realservers: s.realservers.map((r) => ({ ...r, forward: "route" as const })) }
            : s,
        ),
        {
          ...first(kernel.services),
          key: { kind: "tcp" as const, address: "198.51.100.9", port: 80 },
        },
      ],
    };
    const report = ownership({ kernel: changed, keepalived: { config, running: true, check } });
    expect(report.services[0]?.realservers[0]?.drift.map((d) => d.message)).toEqual([
      "keepalived: forwarding masq, kernel route: changed at runtime",
    ]);
    expect(summarizeOwnership(report)).toMatchObject({
      owner: "mixed",
      services: 5,
      unexpectedDrift: 3,
    });
    expect(summarizeOwnership(ownership({ kernel: { services: [] } })).owner).toBe("none");
  });
});

describe("vrrpRole", () => {
  const dump = parseVrrpDump(fixtureText("dumps/keepalived.data"));
  const withStates = (...states: Array<string | null>) => ({
    ...dump,
    instances: states.map((state, i) => ({ ...first(dump.instances), name: `VI_${i}`, state })),
  });

  it.each([
    [["MASTER", "MASTER"], "MASTER"],
    [["BACKUP", "BACKUP"], "BACKUP"],
    [["MASTER", "FAULT"], "FAULT"],
    [["MASTER", "BACKUP"], "mixed"],
    [[null], "unknown"],
  ] as const)("%o -> %s", (states, role) => {
    expect(vrrpRole(withStates(...states))).toBe(role);
  });

  it("reads the fixture's split state as mixed", () => {
    expect(vrrpRole(dump)).toBe("mixed");
  });
});
