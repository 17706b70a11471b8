/**
 * What changed between two readings of a director's rules, in the operator's words:
 * "TCP 203.0.113.10:80: 10.10.0.11:80 weight 1 -> 0". Used to explain a CONFLICT (someone
 * changed the director since the operator looked) and a VERIFY_FAILED (the read-back is not
 * what the plan meant). Pure: compares rules only, never counters.
 */
import {
  formatEndpoint,
  formatServiceKey,
  sameEndpoint,
  sameServiceKey,
  type Endpoint,
  type RealserverRule,
  type ServiceKey,
  type ServiceRule,
} from "@/server/ipvs/model";
import type { ServiceWithRealservers } from "./rules";

export type ServiceField = "scheduler" | "persistence" | "ops" | "schedFlags" | "pe";
export type RealserverField = "forward" | "weight" | "upperThreshold" | "lowerThreshold" | "tunnel";

export type RuleChange =
  | { kind: "serviceAdded"; service: ServiceKey; text: string }
  | { kind: "serviceRemoved"; service: ServiceKey; text: string }
  | {
      kind: "serviceEdited";
      service: ServiceKey;
      field: ServiceField;
      from: string;
      to: string;
      text: string;
    }
  | { kind: "realserverAdded"; service: ServiceKey; realserver: Endpoint; text: string }
  | { kind: "realserverRemoved"; service: ServiceKey; realserver: Endpoint; text: string }
  | {
      kind: "realserverEdited";
      service: ServiceKey;
      realserver: Endpoint;
      field: RealserverField;
      from: string;
      to: string;
      text: string;
    };

function describeService(s: ServiceRule): string {
  return `${formatServiceKey(s.key)} ${s.scheduler}${s.persistence ? ` persistent ${s.persistence.timeout}` : ""}`;
}

const SERVICE_FIELDS: Record<ServiceField, (s: ServiceRule) => string> = {
  scheduler: (s) => s.scheduler,
  persistence: (s) =>
    s.persistence
      ? `${s.persistence.timeout} s${hostMask(s.persistence.netmask) ? "" : ` mask ${s.persistence.netmask}`}`
      : "off",
  ops: (s) => (s.ops ? "on" : "off"),
  schedFlags: (s) => (s.schedFlags.length ? [...s.schedFlags].sort().join(",") : "none"),
  pe: (s) => s.pe ?? "none",
};

/** ipvsadm prints no mask for the default one-host mask: an explicit /32 (or /128) is the same rule. */
function hostMask(netmask: string | number | null): boolean {
  return netmask === null || netmask === "255.255.255.255" || netmask === 128;
}

const REALSERVER_FIELDS: Record<RealserverField, (r: RealserverRule) => string> = {
  forward: (r) => r.forward,
  weight: (r) => String(r.weight),
  upperThreshold: (r) => String(r.upperThreshold),
  lowerThreshold: (r) => String(r.lowerThreshold),
  tunnel: (r) =>
    r.tunnel
      ? `${r.tunnel.type}${r.tunnel.port !== null ? ` port ${r.tunnel.port}` : ""}${r.tunnel.noChecksum ? " nocsum" : ""}`
      : "none",
};

const FIELD_LABEL: Record<ServiceField | RealserverField, string> = {
  scheduler: "scheduler",
  persistence: "persistence",
  ops: "one-packet scheduling",
  schedFlags: "scheduler flags",
  pe: "persistence engine",
  forward: "forwarding",
  weight: "weight",
  upperThreshold: "upper threshold",
  lowerThreshold: "lower threshold",
  tunnel: "tunnel",
};

/** Every difference from `before` to `after`, services in `after`'s order, removals last. */
export function diffRules(
  before: readonly ServiceWithRealservers[],
  after: readonly ServiceWithRealservers[],
): RuleChange[] {
  const changes: RuleChange[] = [];
  for (const next of after) {
    const prev = before.find((s) => sameServiceKey(s.key, next.key));
    const name = formatServiceKey(next.key);
    if (!prev) {
      changes.push({
        kind: "serviceAdded",
        service: next.key,
        text: `service ${describeService(next)} added`,
      });
      for (const r of next.realservers) {
        changes.push({
          kind: "realserverAdded",
          service: next.key,
          realserver: { address: r.address, port: r.port },
          text: `${name}: realserver ${formatEndpoint(r)} added (${r.forward}, weight ${r.weight})`,
        });
      }
      continue;
    }
    for (const field of Object.keys(SERVICE_FIELDS) as ServiceField[]) {
      const from = SERVICE_FIELDS[field](prev);
      const to = SERVICE_FIELDS[field](next);
      if (from !== to) {
        changes.push({
          kind: "serviceEdited",
          service: next.key,
          field,
          from,
          to,
          text: `${name}: ${FIELD_LABEL[field]} ${from} -> ${to}`,
        });
      }
    }
    changes.push(...diffRealservers(next.key, prev.realservers, next.realservers));
  }
  for (const prev of before) {
    if (!after.some((s) => sameServiceKey(s.key, prev.key))) {
      changes.push({
        kind: "serviceRemoved",
        service: prev.key,
        text: `service ${describeService(prev)} removed`,
      });
    }
  }
  return changes;
}

function diffRealservers(
  service: ServiceKey,
  before: readonly RealserverRule[],
  after: readonly RealserverRule[],
): RuleChange[] {
  const name = formatServiceKey(service);
  const changes: RuleChange[] = [];
  for (const next of after) {
    const realserver = { address: next.address, port: next.port };
    const prev = before.find((r) => sameEndpoint(r, next));
    if (!prev) {
      changes.push({
        kind: "realserverAdded",
        service,
        realserver,
        text: `${name}: realserver ${formatEndpoint(next)} added (${next.forward}, weight ${next.weight})`,
      });
      continue;
    }
    for (const field of Object.keys(REALSERVER_FIELDS) as RealserverField[]) {
      const from = REALSERVER_FIELDS[field](prev);
      const to = REALSERVER_FIELDS[field](next);
      if (from !== to) {
        changes.push({
          kind: "realserverEdited",
          service,
          realserver,
          field,
          from,
          to,
          text: `${name}: ${formatEndpoint(next)} ${FIELD_LABEL[field]} ${from} -> ${to}`,
        });
      }
    }
  }
  for (const prev of before) {
    if (!after.some((r) => sameEndpoint(r, prev))) {
      changes.push({
        kind: "realserverRemoved",
        service,
        realserver: { address: prev.address, port: prev.port },
        text: `${name}: realserver ${formatEndpoint(prev)} removed`,
      });
    }
  }
  return changes;
}
