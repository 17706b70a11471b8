/**
 * The cross-field rules the kernel and ipvsadm enforce on a service and its realservers,
 * beyond what the model's schemas check field by field. One set of rules for the forms and
 * routers (the checked schemas), the change schema and the command builders, so a form
 * refuses the same input a builder would.
 *
 * Pure: no I/O.
 */
import {
  addressFamily,
  realserverRuleSchema,
  serviceRuleSchema,
  type RealserverRule,
  type ServiceKey,
  type ServiceRule,
} from "./model";

/** A cross-field problem; `path` is relative to the object that was checked. */
export interface RuleIssue {
  path: Array<string | number>;
  message: string;
}

/** Rules of a service on its own, beyond what serviceRuleSchema checks field by field. */
export function serviceRuleIssues(rule: ServiceRule): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const family = serviceFamily(rule.key);
  if (rule.schedFlags.length > 0 && rule.scheduler !== "sh" && rule.scheduler !== "mh") {
    issues.push({
      path: ["schedFlags"],
      message: `scheduler flags are only for the sh and mh schedulers, not ${rule.scheduler}`,
    });
  } else {
    rule.schedFlags.forEach((flag, i) => {
      if (!flag.startsWith(`${rule.scheduler}-`)) {
        issues.push({
          path: ["schedFlags", i],
          message: `${flag} is a flag of another scheduler than ${rule.scheduler}`,
        });
      } else if (rule.schedFlags.indexOf(flag) !== i) {
        issues.push({ path: ["schedFlags", i], message: `${flag} is listed twice` });
      }
    });
  }
  // ipvsadm: "One-Packet Scheduling is only for UDP virtual services" (fwmark services may use it).
  if (rule.ops && rule.key.kind !== "udp" && rule.key.kind !== "fwm") {
    issues.push({ path: ["ops"], message: "one-packet scheduling is only for UDP services" });
  }
  // ipvsadm: "Zero port specified for non-persistent service".
  if (rule.key.kind !== "fwm" && rule.key.port === 0 && rule.persistence === null) {
    issues.push({
      path: ["key", "port"],
      message: "port 0 (every port of the VIP) is only for a persistent service",
    });
  }
  const netmask = rule.persistence?.netmask ?? null;
  if (netmask !== null) {
    if (family === "inet" && (typeof netmask !== "string" || addressFamily(netmask) !== "inet")) {
      issues.push({
        path: ["persistence", "netmask"],
        message: "an IPv4 service takes a dotted persistence netmask such as 255.255.255.0",
      });
    }
    if (family === "inet6" && typeof netmask !== "number") {
      issues.push({
        path: ["persistence", "netmask"],
        message: "an IPv6 service takes a persistence prefix length from 1 to 128",
      });
    }
  }
  if (rule.pe !== null && rule.persistence === null) {
    issues.push({
      path: ["pe"],
      message: "a persistence engine works only on a persistent service",
    });
  }
  return issues;
}

/** Rules of a realserver on its own (thresholds, tunnel options). */
export function realserverRuleIssues(rs: RealserverRule): RuleIssue[] {
  const issues: RuleIssue[] = [];
  // The kernel compares the two unconditionally (ERANGE): an upper of 0 ("no limit") needs a lower of 0.
  if (rs.lowerThreshold > rs.upperThreshold) {
    issues.push({
      path: ["lowerThreshold"],
      message:
        rs.upperThreshold === 0
          ? `the lower threshold (${rs.lowerThreshold}) needs an upper threshold at least as high; the kernel refuses it ("Numerical result out of range")`
          : `the lower threshold (${rs.lowerThreshold}) is above the upper threshold (${rs.upperThreshold}); the kernel refuses it ("Numerical result out of range")`,
    });
  }
  const tunnel = rs.tunnel;
  if (tunnel !== null) {
    if (rs.forward !== "tunnel") {
      issues.push({
        path: ["tunnel"],
        message: `tunnel options are only for tunnel forwarding, not ${rs.forward}`,
      });
    } else if (tunnel.type === "gue" && tunnel.port === null) {
      issues.push({ path: ["tunnel", "port"], message: "a GUE tunnel needs a tunnel port" });
    } else if (tunnel.type !== "gue" && tunnel.port !== null) {
      issues.push({
        path: ["tunnel", "port"],
        message: `only a GUE tunnel has a tunnel port, not ${tunnel.type}`,
      });
    }
    if (tunnel.type === "ipip" && tunnel.noChecksum) {
      issues.push({
        path: ["tunnel", "noChecksum"],
        message: "checksum options are only for GUE and GRE tunnels",
      });
    }
  }
  return issues;
}

/** Rules of a realserver within a given service; paths are relative to the realserver. */
export function membershipIssues(
  key: ServiceKey,
  rs: { address: string; port: number; forward: string },
): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (addressFamily(rs.address) !== serviceFamily(key) && rs.forward !== "tunnel") {
    issues.push({
      path: ["address"],
      message: `an ${addressFamily(rs.address) === "inet" ? "IPv4" : "IPv6"} realserver on an ${serviceFamily(key) === "inet" ? "IPv4" : "IPv6"} service is allowed only for tunnel forwarding`,
    });
  }
  // Port 0 on a member means "the port the client asked for": only where the service has no
  // single port (a firewall mark, or a persistent service on port 0).
  if (rs.port === 0 && key.kind !== "fwm" && key.port !== 0) {
    issues.push({
      path: ["port"],
      message: `a realserver of a service on port ${key.port} needs a port from 1 to 65535`,
    });
  }
  // ipvsadm forces the service port on route and tunnel members (fwmark services have none).
  if (key.kind !== "fwm" && rs.forward !== "masq" && rs.port !== key.port) {
    issues.push({
      path: ["port"],
      message: `${rs.forward} forwarding cannot change the port: the realserver port must be the service port ${key.port}`,
    });
  }
  return issues;
}

export function serviceFamily(key: ServiceKey): "inet" | "inet6" {
  return key.kind === "fwm" ? key.family : addressFamily(key.address);
}

/**
 * A checked service rule, for forms and routers: the field schemas plus serviceRuleIssues.
 */
export const checkedServiceRuleSchema = serviceRuleSchema.superRefine((rule, ctx) => {
  for (const issue of serviceRuleIssues(rule)) ctx.addIssue({ code: "custom", ...issue });
});

/** A checked realserver rule: the field schemas plus realserverRuleIssues. */
export const checkedRealserverRuleSchema = realserverRuleSchema.superRefine((rs, ctx) => {
  for (const issue of realserverRuleIssues(rs)) ctx.addIssue({ code: "custom", ...issue });
});
