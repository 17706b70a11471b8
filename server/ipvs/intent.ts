/**
 * What a director's rules should look like once a change is applied: the reference the
 * read-back is verified against. Written from the change's meaning, not from the commands,
 * so a command that does more than it should (an `ipvsadm -e` that resets the forwarding
 * method) shows up as a difference.
 */
import { changeSchema, type Change, type ChangeInput } from "@/server/ipvs/change";
import { drainTargets } from "@/server/ipvs/planner";
import {
  sameEndpoint,
  sameServiceKey,
  type RealserverRule,
  type ServiceKey,
} from "@/server/ipvs/model";
import { rulesOf, type ServiceWithRealservers } from "./rules";
import { diffRules } from "./rule-diff";

/**
 * Whether a director already holds what a membership or service change asks for, so the
 * planner's refusal of it (already a member, no such member, ...) means "nothing to do here":
 * the retry of a change that landed on some directors of a cluster, or its inverse. Only an
 * exact match counts: a member with another weight is not "already added". Pure.
 */
export function alreadyAsIntended(
  services: readonly ServiceWithRealservers[],
  input: ChangeInput,
): boolean {
  // Parsed as the planner parses it: defaults (thresholds, tunnel) filled in before comparing.
  const parsed = changeSchema.safeParse(input);
  if (!parsed.success) return false;
  const change = parsed.data;
  const rules = rulesOf(services);
  const find = (key: ServiceKey) => rules.find((s) => sameServiceKey(s.key, key));
  switch (change.kind) {
    case "addRealserver": {
      const svc = find(change.service);
      const current = svc?.realservers.find((rs) => sameEndpoint(rs, change.realserver));
      return (
        svc !== undefined &&
        current !== undefined &&
        diffRules(
          [{ ...svc, realservers: [current] }],
          rulesOf([{ ...svc, realservers: [change.realserver] }]),
        ).length === 0
      );
    }
    case "removeRealserver": {
      const svc = find(change.service);
      return (
        svc !== undefined && !svc.realservers.some((rs) => sameEndpoint(rs, change.realserver))
      );
    }
    case "addService": {
      const svc = find(change.service.key);
      return (
        svc !== undefined &&
        diffRules([svc], rulesOf([{ ...change.service, realservers: change.realservers }]))
          .length === 0
      );
    }
    case "deleteService":
      return find(change.service) === undefined;
    default:
      return false;
  }
}

export function intendedRules(
  services: readonly ServiceWithRealservers[],
  change: Change,
): ServiceWithRealservers[] {
  const rules = rulesOf(services);
  const mapMembers = (
    match: (svc: ServiceWithRealservers) => boolean,
    edit: (rs: RealserverRule) => RealserverRule,
  ): ServiceWithRealservers[] =>
    rules.map((svc) => (match(svc) ? { ...svc, realservers: svc.realservers.map(edit) } : svc));

  switch (change.kind) {
    case "setWeight":
      return mapMembers(
        (svc) => sameServiceKey(svc.key, change.service),
        (rs) => (sameEndpoint(rs, change.realserver) ? { ...rs, weight: change.weight } : rs),
      );
    case "addRealserver":
      return rules.map((svc) =>
        sameServiceKey(svc.key, change.service)
          ? { ...svc, realservers: [...svc.realservers, change.realserver] }
          : svc,
      );
    case "editRealserver":
      return mapMembers(
        (svc) => sameServiceKey(svc.key, change.service),
        (rs) => (sameEndpoint(rs, change.realserver) ? change.realserver : rs),
      );
    case "removeRealserver":
      return rules.map((svc) =>
        sameServiceKey(svc.key, change.service)
          ? {
              ...svc,
              realservers: svc.realservers.filter((rs) => !sameEndpoint(rs, change.realserver)),
            }
          : svc,
      );
    case "addService":
      return [...rules, { ...change.service, realservers: change.realservers }];
    case "editService":
      return rules.map((svc) =>
        sameServiceKey(svc.key, change.service.key)
          ? { ...change.service, realservers: svc.realservers }
          : svc,
      );
    case "deleteService":
      return rules.filter((svc) => !sameServiceKey(svc.key, change.service));
    case "drain": {
      const targets = drainTargets(rules, change.realserver);
      return rules.map((svc) => ({
        ...svc,
        realservers: svc.realservers.map((rs) =>
          targets.some((t) => sameServiceKey(t.service, svc.key) && sameEndpoint(t.realserver, rs))
            ? { ...rs, weight: 0 }
            : rs,
        ),
      }));
    }
    case "undrain":
      return rules.map((svc) => ({
        ...svc,
        realservers: svc.realservers.map((rs) => {
          const recorded = change.weights.find(
            (w) =>
              sameServiceKey(w.service, svc.key) &&
              rs.address === change.realserver.address &&
              rs.port === w.port,
          );
          return recorded ? { ...rs, weight: recorded.weight } : rs;
        }),
      }));
    case "setSysctl":
      return rules;
  }
}
