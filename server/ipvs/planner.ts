/**
 * The planner turns a change the operator asked for into the ordered ipvsadm commands that
 * make it so on a director whose current rules are known, or refuses it with a typed reason
 * the UI can show. Pure: no I/O; the caller runs the steps in order and stops at the first
 * failure.
 */
import type { z } from "zod";
import { ConsoleError, type RefusalReason } from "@/server/errors";
import {
  formatEndpoint,
  formatServiceKey,
  sameEndpoint,
  sameServiceKey,
  canonicalAddress,
  realserverRule,
  type IpvsSysctls,
  type RealserverRule,
  type RuleSet,
  type ServiceKey,
  type ServiceRule,
} from "./model";
import { changeSchema, describeSelector, type Change, type ChangeInput } from "./change";
import * as commands from "./commands";
import type { RuleIssue } from "./rule-checks";

export interface PlanStep {
  argv: string[];
  description: string;
}

export type Plan =
  | { ok: true; steps: PlanStep[] }
  | {
      ok: false;
      reason: RefusalReason;
      message: string;
      /** For "invalid": field path -> why, like a VALIDATION error's details.fields. */
      fields?: Record<string, string>;
    };

/** The rules the planner needs: ServiceState[] from a poll, or a RuleSet from `ipvsadm -Sn`. */
export type CurrentService = ServiceRule & { realservers: readonly RealserverRule[] };
export type CurrentState = readonly CurrentService[] | RuleSet;

export interface PlanContext {
  /** Current net.ipv4.vs sysctls, when known: lets setSysctl refuse a no-op. */
  sysctls?: IpvsSysctls;
}

function servicesOf(state: CurrentState): readonly CurrentService[] {
  return "services" in state ? state.services : state;
}

function sameRealserverRule(a: RealserverRule, b: RealserverRule): boolean {
  return JSON.stringify(realserverRule(a)) === JSON.stringify(realserverRule(b));
}

function sameServiceRule(a: ServiceRule, b: ServiceRule): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.ops === b.ops &&
    a.pe === b.pe &&
    (a.persistence?.timeout ?? null) === (b.persistence?.timeout ?? null) &&
    (a.persistence?.netmask ?? null) === (b.persistence?.netmask ?? null) &&
    [...a.schedFlags].sort().join(",") === [...b.schedFlags].sort().join(",")
  );
}

export interface DrainTarget {
  service: ServiceKey;
  realserver: RealserverRule;
}

/** Every (service, member) where the realserver serves: same address, and same port if given. */
export function drainTargets(
  state: CurrentState,
  realserver: { address: string; port?: number },
): DrainTarget[] {
  const address = canonicalAddress(realserver.address.trim());
  if (address === null) return [];
  return servicesOf(state).flatMap((svc) =>
    svc.realservers
      .filter(
        (rs) =>
          rs.address === address && (realserver.port === undefined || rs.port === realserver.port),
      )
      .map((rs) => ({ service: svc.key, realserver: realserverRule(rs) })),
  );
}

function refuse(reason: RefusalReason, message: string, fields?: Record<string, string>): Plan {
  return fields ? { ok: false, reason, message, fields } : { ok: false, reason, message };
}

function invalidFrom(issues: readonly z.core.$ZodIssue[] | readonly RuleIssue[]): Plan {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const name = issue.path.map(String).join(".");
    fields[name] ??= issue.message;
  }
  const [first] = Object.entries(fields);
  const message = first
    ? `${first[0] === "" ? "change" : first[0]}: ${first[1]}`
    : "the change is not valid";
  return refuse("invalid", message, fields);
}

/**
 * Plans a change against the current rules. Never throws for bad input: an invalid change
 * is a refusal with reason "invalid" and per-field messages.
 */
export function plan(state: CurrentState, input: ChangeInput, context: PlanContext = {}): Plan {
  const parsed = changeSchema.safeParse(input);
  if (!parsed.success) return invalidFrom(parsed.error.issues);
  try {
    return planChange(servicesOf(state), parsed.data, context);
  } catch (e) {
    // The builders re-check what the schema checked; a difference would be a bug, but a
    // refusal still beats a half-planned change.
    if (e instanceof ConsoleError && e.code === "VALIDATION") {
      const fields = e.details.fields;
      return refuse("invalid", e.message, isStringRecord(fields) ? fields : undefined);
    }
    throw e;
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

/** For callers that want exceptions: REFUSED (details.reason) or VALIDATION (details.fields). */
export function planOrThrow(
  state: CurrentState,
  input: ChangeInput,
  context: PlanContext = {},
): PlanStep[] {
  const p = plan(state, input, context);
  if (p.ok) return p.steps;
  if (p.reason === "invalid") {
    throw new ConsoleError("VALIDATION", p.message, { fields: p.fields ?? {} });
  }
  throw new ConsoleError("REFUSED", p.message, { reason: p.reason });
}

function planChange(
  services: readonly CurrentService[],
  change: Change,
  context: PlanContext,
): Plan {
  const findService = (key: ServiceKey) => services.find((s) => sameServiceKey(s.key, key));
  const noService = (key: ServiceKey) =>
    refuse(
      "no-such-service",
      `there is no virtual service ${formatServiceKey(key)} on this director`,
    );
  const noMember = (key: ServiceKey, e: { address: string; port: number }) =>
    refuse(
      "no-such-realserver",
      `${formatEndpoint(e)} is not a realserver of ${formatServiceKey(key)}`,
    );

  switch (change.kind) {
    case "setWeight": {
      const svc = findService(change.service);
      if (!svc) return noService(change.service);
      const current = svc.realservers.find((rs) => sameEndpoint(rs, change.realserver));
      if (!current) return noMember(change.service, change.realserver);
      if (current.weight === change.weight) {
        return refuse(
          "would-change-nothing",
          `${formatEndpoint(current)} already has weight ${change.weight} in ${formatServiceKey(svc.key)}`,
        );
      }
      return {
        ok: true,
        steps: [
          {
            argv: commands.setWeight(svc.key, realserverRule(current), change.weight),
            description: `Set the weight of ${formatEndpoint(current)} in ${formatServiceKey(svc.key)} from ${current.weight} to ${change.weight}`,
          },
        ],
      };
    }

    case "addRealserver": {
      const svc = findService(change.service);
      if (!svc) return noService(change.service);
      const rs = change.realserver;
      if (svc.realservers.some((m) => sameEndpoint(m, rs))) {
        return refuse(
          "already-a-member",
          `${formatEndpoint(rs)} is already a realserver of ${formatServiceKey(svc.key)}`,
        );
      }
      return {
        ok: true,
        steps: [
          {
            argv: commands.addRealserver(svc.key, rs),
            description: `Add realserver ${formatEndpoint(rs)} (${rs.forward}, weight ${rs.weight}) to ${formatServiceKey(svc.key)}`,
          },
        ],
      };
    }

    case "editRealserver": {
      const svc = findService(change.service);
      if (!svc) return noService(change.service);
      const rs = change.realserver;
      const current = svc.realservers.find((m) => sameEndpoint(m, rs));
      if (!current) return noMember(svc.key, rs);
      if (sameRealserverRule(current, rs)) {
        return refuse(
          "would-change-nothing",
          `${formatEndpoint(rs)} in ${formatServiceKey(svc.key)} already has these settings`,
        );
      }
      return {
        ok: true,
        steps: [
          {
            argv: commands.editRealserver(svc.key, rs),
            description: `Change realserver ${formatEndpoint(rs)} of ${formatServiceKey(svc.key)}`,
          },
        ],
      };
    }

    case "removeRealserver": {
      const svc = findService(change.service);
      if (!svc) return noService(change.service);
      const current = svc.realservers.find((m) => sameEndpoint(m, change.realserver));
      if (!current) return noMember(svc.key, change.realserver);
      return {
        ok: true,
        steps: [
          {
            argv: commands.deleteRealserver(svc.key, change.realserver),
            description: `Remove realserver ${formatEndpoint(current)} from ${formatServiceKey(svc.key)}`,
          },
        ],
      };
    }

    case "addService": {
      const key = change.service.key;
      if (findService(key)) {
        return refuse(
          "service-exists",
          `the virtual service ${formatServiceKey(key)} already exists`,
        );
      }
      return {
        ok: true,
        steps: [
          {
            argv: commands.addService(change.service),
            description: `Create virtual service ${formatServiceKey(key)} (${change.service.scheduler})`,
          },
          ...change.realservers.map((rs) => ({
            argv: commands.addRealserver(key, rs),
            description: `Add realserver ${formatEndpoint(rs)} (${rs.forward}, weight ${rs.weight}) to ${formatServiceKey(key)}`,
          })),
        ],
      };
    }

    case "editService": {
      const svc = findService(change.service.key);
      if (!svc) return noService(change.service.key);
      if (sameServiceRule(svc, change.service)) {
        return refuse(
          "would-change-nothing",
          `${formatServiceKey(svc.key)} already has these settings`,
        );
      }
      return {
        ok: true,
        steps: [
          {
            argv: commands.editService(change.service),
            description: `Change virtual service ${formatServiceKey(svc.key)}`,
          },
        ],
      };
    }

    case "deleteService": {
      const svc = findService(change.service);
      if (!svc) return noService(change.service);
      const n = svc.realservers.length;
      return {
        ok: true,
        steps: [
          {
            argv: commands.deleteService(svc.key),
            description: `Delete virtual service ${formatServiceKey(svc.key)} and its ${n} realserver${n === 1 ? "" : "s"}`,
          },
        ],
      };
    }

    case "drain": {
      const targets = drainTargets(services, change.realserver);
      const who = describeSelector(change.realserver);
      if (targets.length === 0)
        return refuse("no-such-realserver", `${who} is not a realserver of any virtual service`);
      const live = targets.filter((t) => t.realserver.weight !== 0);
      if (live.length === 0)
        return refuse("would-change-nothing", `${who} already has weight 0 everywhere it serves`);
      return {
        ok: true,
        steps: live.map((t) => ({
          argv: commands.setWeight(t.service, t.realserver, 0),
          description: `Drain ${formatEndpoint(t.realserver)} in ${formatServiceKey(t.service)} (weight ${t.realserver.weight} to 0)`,
        })),
      };
    }

    case "undrain": {
      const steps: PlanStep[] = [];
      const selector = change.realserver;
      for (const [i, w] of change.weights.entries()) {
        if (selector.port !== undefined && w.port !== selector.port) {
          return invalidFrom([
            {
              path: ["weights", i, "port"],
              message: `the drain is of ${describeSelector(selector)}, not port ${w.port}`,
            },
          ]);
        }
        const svc = findService(w.service);
        if (!svc) return noService(w.service);
        const endpoint = { address: selector.address, port: w.port };
        const current = svc.realservers.find((m) => sameEndpoint(m, endpoint));
        if (!current) return noMember(svc.key, endpoint);
        if (current.weight === w.weight) continue;
        steps.push({
          argv: commands.setWeight(svc.key, realserverRule(current), w.weight),
          description: `Restore the weight of ${formatEndpoint(current)} in ${formatServiceKey(svc.key)} (${current.weight} to ${w.weight})`,
        });
      }
      if (steps.length === 0) {
        return refuse(
          "would-change-nothing",
          `${describeSelector(selector)} already has its recorded weights`,
        );
      }
      return { ok: true, steps };
    }

    case "setSysctl": {
      const { name, value } = change.setting;
      const current = context.sysctls?.[name];
      if (current !== undefined && current.length === 1 && current[0] === value) {
        return refuse("would-change-nothing", `net.ipv4.vs.${name} is already ${value}`);
      }
      return {
        ok: true,
        steps: [
          {
            argv: commands.setSysctl(change.setting),
            description: `Set net.ipv4.vs.${name} to ${value}`,
          },
        ],
      };
    }
  }
}
