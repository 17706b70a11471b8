import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseList } from "@/server/ipvs/parse/list";
import type { IpvsSysctls } from "@/server/ipvs/model";
import type { ServiceWithRealservers } from "./rules";
import { drainWarnings } from "./preflight";

const fixture = (name: string) =>
  readFileSync(new URL(`../ipvs/__fixtures__/${name}`, import.meta.url), "utf8");

/** The captured lab director: rules from `ipvsadm -Ln`, sysctls from /proc/sys/net/ipv4/vs. */
function labState(): { services: ServiceWithRealservers[]; sysctls: IpvsSysctls } {
  const services = parseList(fixture("ipvsadm-Ln.txt")).services.map((svc) => ({
    ...svc,
    realservers: svc.realservers.map((rs) => ({
      address: rs.address,
      port: rs.port,
      forward: rs.forward ?? "masq",
      weight: rs.weight ?? 0,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: null,
    })),
  }));
  const sysctls: IpvsSysctls = {};
  for (const line of fixture("sysctl-net-ipv4-vs.txt").trim().split("\n")) {
    const [path, value = ""] = line.split(":");
    sysctls[path?.split("/").pop() ?? ""] = value.split(/\s+/).map(Number);
  }
  return { services, sysctls };
}

describe("drain preflight warnings", () => {
  it("warns that pinned clients keep coming on the persistent service, with the sysctl fix", () => {
    const { services, sysctls } = labState();
    const warnings = drainWarnings({
      directorId: "lab",
      services,
      sysctls,
      realserver: { address: "10.10.0.11", port: 80 },
    });
    // rs1:80 serves TCP :80 (rr, persistent 300), :8080 (wrr) and FWM 1 (mh with mh-fallback).
    expect(warnings).toEqual([
      {
        code: "persistence-keeps-clients",
        directorId: "lab",
        service: { kind: "tcp", address: "203.0.113.10", port: 80 },
        message: expect.stringContaining("pinned clients keep coming") as string,
        fix: { name: "expire_quiescent_template", value: 1 },
      },
    ]);
  });

  it("says nothing about persistence once expire_quiescent_template is 1", () => {
    const { services, sysctls } = labState();
    sysctls.expire_quiescent_template = [1];
    expect(
      drainWarnings({
        directorId: "lab",
        services,
        sysctls,
        realserver: { address: "10.10.0.11", port: 80 },
      }),
    ).toEqual([]);
  });

  it("warns about UDP flows that never end, suggesting removal with expire_nodest_conn", () => {
    const { services, sysctls } = labState();
    const warnings = drainWarnings({
      directorId: "lab",
      services,
      sysctls,
      realserver: { address: "10.10.0.11" },
    });
    const udp = warnings.find((w) => w.code === "udp-never-drains");
    expect(udp).toMatchObject({
      service: { kind: "udp", address: "203.0.113.10", port: 53 },
      fix: { name: "expire_nodest_conn", value: 1 },
    });
    expect(udp?.message).toMatch(/remove 10\.10\.0\.11:53/);
    // sh with sh-fallback and mh with mh-fallback (UDP :53, FWM 1) are fine.
    expect(warnings.map((w) => w.code).sort()).toEqual([
      "persistence-keeps-clients",
      "udp-never-drains",
    ]);
  });

  it("warns about sh and mh services without their fallback flag", () => {
    const { services, sysctls } = labState();
    const stripped = services.map((svc) => ({ ...svc, schedFlags: [] }));
    const warnings = drainWarnings({
      directorId: "lab",
      services: stripped,
      sysctls,
      realserver: { address: "10.10.0.11" },
    });
    const hashed = warnings.filter((w) => w.code === "hash-without-fallback");
    expect(hashed.map((w) => w.service)).toEqual([
      { kind: "udp", address: "203.0.113.10", port: 53 },
      { kind: "fwm", mark: 1, family: "inet" },
    ]);
    expect(hashed[1]?.message).toMatch(/mh without mh-fallback/);
  });

  it("looks only at the given service for a single weight change", () => {
    const { services, sysctls } = labState();
    const warnings = drainWarnings({
      directorId: "lab",
      services,
      sysctls,
      realserver: { address: "10.10.0.11", port: 80 },
      only: { kind: "tcp", address: "203.0.113.10", port: 8080 },
    });
    expect(warnings).toEqual([]);
  });

  it("finds nothing to warn about for an address that serves nowhere", () => {
    const { services, sysctls } = labState();
    expect(
      drainWarnings({
        directorId: "lab",
        services,
        sysctls,
        realserver: { address: "10.10.0.99" },
      }),
    ).toEqual([]);
  });
});
