/**
 * The routing of ordinary changes: on a keepalived-owned service they become lasting ones
 * (no separate button), what keepalived's config cannot carry is refused, the rest stays
 * runtime. And the weight-0 label: checker down is not a drain.
 */
import { describe, expect, it } from "vitest";
import type { RealserverRule, ServiceKey, ServiceRule } from "@/server/ipvs/model";
import type { ChangeInput } from "@/server/ipvs/change";
import { routeChange, routeDrain, zeroWeightReason, type RouteContext } from "./route";

const APP: ServiceKey = { kind: "tcp", address: "203.0.113.11", port: 9090 };
const OWN: ServiceKey = { kind: "tcp", address: "203.0.113.11", port: 443 };
const rs = (address: string, weight = 1): RealserverRule => ({
  address,
  port: 80,
  forward: "masq",
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
});
const rule = (key: ServiceKey): ServiceRule => ({
  key,
  scheduler: "rr",
  persistence: null,
  ops: false,
  schedFlags: [],
  pe: null,
});
const ctx: RouteContext = {
  owned: [
    { key: APP, owner: { kind: "keepalived" } },
    { key: OWN, owner: { kind: "rules-file" } },
  ],
  keepalivedOwnsNew: true,
  kernel: [{ ...rule(APP), realservers: [rs("10.10.0.11", 3)] }],
};

describe("routeChange", () => {
  it("a weight, a new or removed member, a service edit or delete on keepalived's service last", () => {
    expect(
      routeChange(
        {
          kind: "setWeight",
          service: APP,
          realserver: { address: "10.10.0.11", port: 80 },
          weight: 0,
        },
        ctx,
      ),
    ).toEqual({
      way: "lasting",
      change: {
        kind: "weight",
        service: APP,
        realserver: { address: "10.10.0.11", port: 80 },
        weight: 0,
      },
    });
    expect(
      routeChange({ kind: "addRealserver", service: APP, realserver: rs("10.10.0.13", 2) }, ctx),
    ).toEqual({
      way: "lasting",
      change: {
        kind: "add-realserver",
        service: APP,
        realserver: { address: "10.10.0.13", port: 80, weight: 2 },
      },
    });
    expect(
      routeChange({ kind: "editRealserver", service: APP, realserver: rs("10.10.0.11", 5) }, ctx),
    ).toMatchObject({
      way: "lasting",
      change: { kind: "weight", weight: 5 },
    });
    expect(
      routeChange(
        { kind: "removeRealserver", service: APP, realserver: { address: "10.10.0.11", port: 80 } },
        ctx,
      ),
    ).toMatchObject({ way: "lasting", change: { kind: "remove-realserver" } });
    expect(
      routeChange(
        {
          kind: "editService",
          service: { ...rule(APP), scheduler: "wlc", persistence: { timeout: 60, netmask: null } },
        },
        ctx,
      ),
    ).toEqual({
      way: "lasting",
      change: {
        kind: "edit-service",
        service: APP,
        changes: { scheduler: "wlc", persistence: { timeout: 60, netmask: null } },
      },
    });
    expect(routeChange({ kind: "deleteService", service: APP }, ctx)).toEqual({
      way: "lasting",
      change: { kind: "delete-service", service: APP },
    });
  });

  it("a new service goes into keepalived's config where keepalived owns the director", () => {
    const key: ServiceKey = { kind: "tcp", address: "203.0.113.12", port: 80 };
    const change: ChangeInput = {
      kind: "addService",
      service: rule(key),
      realservers: [rs("10.10.0.11", 4)],
    };
    expect(routeChange(change, ctx)).toEqual({
      way: "lasting",
      change: {
        kind: "add-service",
        service: key,
        spec: {
          scheduler: "rr",
          forward: "masq",
          persistence: null,
          realservers: [{ address: "10.10.0.11", port: 80, weight: 4 }],
        },
      },
    });
    expect(routeChange(change, { ...ctx, keepalivedOwnsNew: false })).toEqual({ way: "runtime" });
    expect(routeChange({ ...change, realservers: [] }, ctx)).toMatchObject({ way: "refused" });
  });

  it("refuses what keepalived's config cannot carry, rather than half doing it", () => {
    const thresholds = { ...rs("10.10.0.13"), upperThreshold: 10 };
    expect(
      routeChange({ kind: "addRealserver", service: APP, realserver: thresholds }, ctx),
    ).toMatchObject({
      way: "refused",
      message: expect.stringContaining("thresholds") as unknown,
    });
    const routed = { ...rs("10.10.0.13"), port: 9090, forward: "route" as const };
    expect(
      routeChange({ kind: "addRealserver", service: APP, realserver: routed }, ctx),
    ).toMatchObject({
      way: "refused",
      message: expect.stringContaining("lb_kind") as unknown,
    });
    expect(
      routeChange(
        {
          kind: "editService",
          service: { ...rule(APP), scheduler: "sh", schedFlags: ["sh-port"] },
        },
        ctx,
      ),
    ).toMatchObject({
      way: "refused",
    });
  });

  it("other owners' services and runtime-only actions stay runtime", () => {
    expect(routeChange({ kind: "deleteService", service: OWN }, ctx)).toEqual({ way: "runtime" });
    expect(routeChange({ kind: "drain", realserver: { address: "10.10.0.11" } }, ctx)).toEqual({
      way: "runtime",
    });
    expect(routeDrain(OWN, { address: "10.10.0.11", port: 80 }, ctx)).toEqual({ way: "runtime" });
    expect(routeDrain(APP, { address: "10.10.0.11", port: 80 }, ctx)).toMatchObject({
      way: "lasting",
      change: { kind: "weight", weight: 0 },
    });
  });
});

describe("zeroWeightReason", () => {
  const member = (checker: "up" | "down" | null, configuredWeight: number | null) => ({
    checker,
    configuredWeight,
    owner: { kind: "keepalived" },
  });
  it("tells a checker-down member from a drained one", () => {
    expect(zeroWeightReason(3, member("up", 3))).toBeNull();
    expect(zeroWeightReason(0, member("down", 3))).toBe("checker-down");
    expect(zeroWeightReason(0, member("down", 0))).toBe("checker-down");
    expect(zeroWeightReason(0, member("up", 0))).toBe("drained-in-config");
    expect(zeroWeightReason(0, member("up", 3))).toBe("drained-at-runtime");
    expect(zeroWeightReason(0, undefined)).toBe("drained-at-runtime");
  });
});
