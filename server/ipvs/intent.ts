/**
 * What a director's rules should look like once a change is applied: the reference the
 * read-back is verified against. Written from the change's meaning, not from the commands,
 * so a command that does more than it should (an `ipvsadm -e` that resets the forwarding
 * method) shows up as a difference.
 */
import type { Change } from "@/server/ipvs/planner";
import { drainTargets } from "@/server/ipvs/planner";
import { sameEndpoint, sameServiceKey, type RealserverRule } from "@/server/ipvs/model";
import { rulesOf, type ServiceWithRealservers } from "./rules";

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
