/**
 * Which way an operator's ordinary change goes (issue 13): a change to a service keepalived
 * owns is written into keepalived's config (a lasting change), because a runtime one is
 * undone at the next reload, checker recovery, restart or failover. The operator does not
 * pick: the weight, drain, realserver and service dialogs route here.
 *
 * Pure: the director's owner view and kernel rules come from the caller (the live snapshot).
 */
import {
  formatEndpoint,
  sameEndpoint,
  sameServiceKey,
  type ServiceKey,
  type ServiceRule,
  type RealserverRule,
} from "@/server/ipvs/model";
import { changeSchema, type Change, type ChangeInput } from "@/server/ipvs/change";
import type { ServiceChanges } from "@/server/ipvs/keepalived";
import type { LastingChange } from "./plan";

export interface RouteContext {
  /** The director's owner view: who owns each service. */
  owned: ReadonlyArray<{ key: ServiceKey; owner: { kind: string } }>;
  /** keepalived runs with a config and owns this director's services: new ones go there too. */
  keepalivedOwnsNew: boolean;
  /** The kernel's services, to tell what an edit form changed. */
  kernel: ReadonlyArray<ServiceRule & { realservers: readonly RealserverRule[] }>;
}

export type Route =
  | { way: "runtime" }
  | { way: "lasting"; change: LastingChange }
  /** keepalived owns it, but its config cannot say this: nothing is done at run time either. */
  | { way: "refused"; message: string };

const LASTING = (change: LastingChange): Route => ({ way: "lasting", change });

function keepalivedOwns(ctx: RouteContext, key: ServiceKey): boolean {
  return ctx.owned.some((s) => sameServiceKey(s.key, key) && s.owner.kind === "keepalived");
}

function samePersistence(a: ServiceRule["persistence"], b: ServiceRule["persistence"]): boolean {
  return (
    (a?.timeout ?? null) === (b?.timeout ?? null) && (a?.netmask ?? null) === (b?.netmask ?? null)
  );
}

/** Only what keepalived's config can carry; anything else is refused rather than half done. */
function serviceChanges(
  next: Change & { kind: "editService" },
  current: ServiceRule | undefined,
): ServiceChanges | string {
  if (next.service.ops || next.service.schedFlags.length > 0 || next.service.pe)
    return "one-packet scheduling, scheduler flags and persistence engines are not written into keepalived's config by the console: edit the file";
  const changes: ServiceChanges = {};
  if (current?.scheduler !== next.service.scheduler) changes.scheduler = next.service.scheduler;
  const persistence = next.service.persistence;
  if (!current || !samePersistence(current.persistence, persistence))
    changes.persistence = persistence;
  return changes;
}

function member(
  rs: {
    address: string;
    port: number;
    weight: number;
    upperThreshold?: number;
    lowerThreshold?: number;
  },
  forward: string,
  serviceForward: string | undefined,
): string | null {
  if ((rs.upperThreshold ?? 0) !== 0 || (rs.lowerThreshold ?? 0) !== 0)
    return `${formatEndpoint(rs)}: connection thresholds are not written into keepalived's config by the console (uthreshold/lthreshold): edit the file`;
  if (serviceForward !== undefined && forward !== serviceForward)
    return `${formatEndpoint(rs)}: keepalived sets the forwarding method per virtual_server (lb_kind ${serviceForward}): edit the service instead`;
  return null;
}

export function routeChange(input: ChangeInput, ctx: RouteContext): Route {
  // Input the schema refuses goes the runtime way, whose preview names the bad field.
  const parsed = changeSchema.safeParse(input);
  if (!parsed.success) return { way: "runtime" };
  const change = parsed.data;
  if (change.kind === "addService") {
    if (!ctx.keepalivedOwnsNew) return { way: "runtime" };
    const realservers = change.realservers;
    if (realservers.length === 0)
      return {
        way: "refused",
        message: "keepalived ignores a virtual_server without real servers: add one",
      };
    const forward = realservers[0]!.forward;
    for (const rs of realservers) {
      const bad = member(rs, rs.forward, forward);
      if (bad) return { way: "refused", message: bad };
    }
    const edit = serviceChanges({ kind: "editService", service: change.service }, undefined);
    if (typeof edit === "string") return { way: "refused", message: edit };
    return LASTING({
      kind: "add-service",
      service: change.service.key,
      spec: {
        scheduler: change.service.scheduler,
        forward,
        persistence: change.service.persistence,
        realservers: realservers.map((r) => ({
          address: r.address,
          port: r.port,
          weight: r.weight,
        })),
      },
    });
  }
  if (change.kind === "drain" || change.kind === "undrain" || change.kind === "setSysctl")
    return { way: "runtime" };
  const service: ServiceKey = "key" in change.service ? change.service.key : change.service;
  if (!keepalivedOwns(ctx, service)) return { way: "runtime" };
  const current = ctx.kernel.find((s) => sameServiceKey(s.key, service));
  switch (change.kind) {
    case "setWeight":
      return LASTING({
        kind: "weight",
        service,
        realserver: change.realserver,
        weight: change.weight,
      });
    case "removeRealserver":
      return LASTING({ kind: "remove-realserver", service, realserver: change.realserver });
    case "deleteService":
      return LASTING({ kind: "delete-service", service });
    case "addRealserver":
    case "editRealserver": {
      const rs = change.realserver;
      const siblings = current?.realservers.filter((r) => !sameEndpoint(r, rs)) ?? [];
      const bad = member(rs, rs.forward, siblings[0]?.forward);
      if (bad) return { way: "refused", message: bad };
      if (change.kind === "editRealserver")
        return LASTING({ kind: "weight", service, realserver: rs, weight: rs.weight });
      return LASTING({
        kind: "add-realserver",
        service,
        realserver: { address: rs.address, port: rs.port, weight: rs.weight },
      });
    }
    case "editService": {
      const changes = serviceChanges(change, current);
      if (typeof changes === "string") return { way: "refused", message: changes };
      return LASTING({ kind: "edit-service", service, changes });
    }
  }
}

/** A runtime drain of one member (the row's Drain): lasting when keepalived owns its service. */
export function routeDrain(
  service: ServiceKey,
  realserver: { address: string; port: number },
  ctx: RouteContext,
): Route {
  return keepalivedOwns(ctx, service)
    ? LASTING({ kind: "weight", service, realserver, weight: 0 })
    : { way: "runtime" };
}

/**
 * Why a member has weight 0, told apart for its row: keepalived's checker holding it down
 * (it comes back by itself) is not a drain (an operator's; it stays until undrained).
 */
export type ZeroWeight = "checker-down" | "drained-in-config" | "drained-at-runtime";

export function zeroWeightReason(
  kernelWeight: number,
  ownership:
    | {
        checker: "up" | "down" | null;
        configuredWeight: number | null;
        owner: { kind: string };
      }
    | undefined,
): ZeroWeight | null {
  if (kernelWeight !== 0) return null;
  if (ownership?.checker === "down") return "checker-down";
  if (ownership?.owner.kind === "keepalived" && ownership.configuredWeight === 0)
    return "drained-in-config";
  return "drained-at-runtime";
}
