/**
 * What keepalived 2.2.7 programs into IPVS from a parsed config, in the console's model:
 * the defaults and corrections of check_data.c validate_check_config() (no protocol ->
 * UDP, no scheduler -> wlc, no lb_kind -> NAT, realserver weight -> the virtual server's
 * `weight` or 1, zero or mismatched ports, duplicate realservers dropped, a virtual server
 * without realservers ignored), each a warning finding where keepalived logs one.
 *
 * This is the configured state: which realservers are in the kernel at a given moment also
 * depends on their checkers (see owner.ts).
 */
import {
  addressFamily,
  canonicalAddress,
  type Endpoint,
  type ForwardMethod,
  type Persistence,
  type RealserverRule,
  sameServiceKey,
  schedulerSchema,
  type ServiceKey,
  type ServiceRule,
} from "@/server/ipvs/model";
import { type Finding, findingAt, type SourceRef } from "./source";
import {
  type KeepalivedConfig,
  type RealServer,
  type VirtualServer,
  type VirtualServerGroupEntry,
} from "./types";

/** keepalived's own scheduler list (check_parser.c lvs_schedulers). */
const KEEPALIVED_SCHEDULERS = new Set([
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "sh",
  "mh",
  "dh",
  "fo",
  "ovf",
  "lblcr",
  "sed",
  "nq",
  "twos",
]);
const DEFAULT_PERSISTENCE = 300;

export interface ProgrammedRealserver extends RealserverRule {
  /** The real_server statement. */
  source: SourceRef;
  /** The `weight` statement, null when the weight is a default. */
  weightSource: SourceRef | null;
  inhibitOnFailure: boolean;
  /** Checker keywords in the block; an empty list means always up. */
  checkers: string[];
  /** A MISC_CHECK with misc_dynamic may set the weight itself. */
  dynamicWeight: boolean;
  realServer: RealServer;
}

export interface ProgrammedService extends ServiceRule {
  /** The virtual_server statement. */
  source: SourceRef;
  /** For `virtual_server group`: the group entry this service comes from. */
  groupEntry: SourceRef | null;
  virtualServer: VirtualServer;
  quorum: number;
  hysteresis: number;
  sorryServer: (Endpoint & { forward: ForwardMethod; inhibit: boolean; source: SourceRef }) | null;
  realservers: ProgrammedRealserver[];
}

export interface Programmed {
  services: ProgrammedService[];
  findings: Finding[];
}

interface KeyAndEntry {
  key: ServiceKey;
  entry: SourceRef | null;
}

function ipv4Range(first: string, last: string): string[] {
  const head = first.slice(0, first.lastIndexOf(".") + 1);
  const from = Number(first.slice(head.length));
  const to = Number(last.slice(head.length));
  return Array.from({ length: to - from + 1 }, (_, i) => `${head}${from + i}`);
}

function ipv6Range(first: string, last: string): string[] {
  const head = first.slice(0, first.lastIndexOf(":") + 1);
  const from = Number.parseInt(first.slice(head.length) || "0", 16);
  const to = Number.parseInt(last.slice(head.length) || "0", 16);
  return Array.from(
    { length: to - from + 1 },
    (_, i) => canonicalAddress(`${head}${(from + i).toString(16)}`) ?? first,
  );
}

function entryKeys(
  entry: VirtualServerGroupEntry,
  protocol: "tcp" | "udp" | "sctp",
  family: "inet" | "inet6",
): KeyAndEntry[] {
  if (entry.kind === "fwmark") {
    return [
      {
        key: { kind: "fwm", mark: entry.mark, family: entry.family ?? family },
        entry: entry.source,
      },
    ];
  }
  const addresses = entry.first.includes(":")
    ? ipv6Range(entry.first, entry.last)
    : ipv4Range(entry.first, entry.last);
  return addresses.map((address) => ({
    key: { kind: protocol, address, port: entry.port },
    entry: entry.source,
  }));
}

function netmaskOf(text: string | null, family: "inet" | "inet6"): Persistence["netmask"] {
  if (text === null) return null;
  if (family === "inet6" || /^\d+$/.test(text)) return Number(text);
  return canonicalAddress(text);
}

class Programmer {
  readonly findings: Finding[] = [];
  readonly services: ProgrammedService[] = [];

  constructor(private readonly config: KeepalivedConfig) {}

  warn(at: SourceRef, message: string): void {
    this.findings.push(findingAt("warning", at, message));
  }

  error(at: SourceRef, message: string): void {
    this.findings.push(findingAt("error", at, message));
  }

  /** Address family from ip_family, the address, or the first non-tunnelled realserver. */
  family(vs: VirtualServer): "inet" | "inet6" {
    if (vs.ipFamily !== null) return vs.ipFamily;
    if (vs.target.kind === "address") return addressFamily(vs.target.address);
    const rs =
      vs.realServers.find((r) => (r.forward ?? vs.forward) !== "tunnel") ?? vs.realServers[0];
    return rs === undefined ? "inet" : addressFamily(rs.address);
  }

  keys(vs: VirtualServer, family: "inet" | "inet6"): KeyAndEntry[] | null {
    const t = vs.target;
    const hasAddresses =
      t.kind === "address" ||
      (t.kind === "group" &&
        this.config.virtualServerGroups.some(
          (g) => g.name === t.name && g.entries.some((e) => e.kind === "range"),
        ));
    let protocol = vs.protocol;
    if (hasAddresses && protocol === null) {
      this.warn(vs.source, "no protocol set: keepalived 2.2.7 defaults it to UDP");
      protocol = "udp";
    }
    if (!hasAddresses && vs.protocol !== null) {
      this.warn(vs.source, "protocol is ignored for a firewall-mark service");
    }
    const proto = protocol ?? "tcp";
    if (t.kind === "address")
      return [{ key: { kind: proto, address: t.address, port: t.port }, entry: null }];
    if (t.kind === "fwmark") return [{ key: { kind: "fwm", mark: t.mark, family }, entry: null }];
    const group = this.config.virtualServerGroups.find((g) => g.name === t.name);
    if (group === undefined) {
      this.error(vs.source, `virtual_server_group ${t.name} is not defined`);
      return null;
    }
    return group.entries.flatMap((e) => entryKeys(e, proto, family));
  }

  scheduler(vs: VirtualServer): ServiceRule["scheduler"] | null {
    const name = vs.scheduler;
    if (name === null) return "wlc";
    if (!KEEPALIVED_SCHEDULERS.has(name)) {
      this.warn(vs.source, `unknown scheduler ${name}: keepalived ignores it and uses wlc`);
      return "wlc";
    }
    const parsed = schedulerSchema.safeParse(name);
    if (!parsed.success) {
      this.error(vs.source, `scheduler ${name} is not one the console models`);
      return null;
    }
    return parsed.data;
  }

  realservers(
    vs: VirtualServer,
    key: ServiceKey,
    family: "inet" | "inet6",
  ): ProgrammedRealserver[] {
    const result: ProgrammedRealserver[] = [];
    const servicePort = key.kind === "fwm" ? 0 : key.port;
    for (const rs of vs.realServers) {
      const forward = rs.forward ?? vs.forward ?? "masq";
      if (forward !== "tunnel" && addressFamily(rs.address) !== family) {
        this.warn(
          rs.source,
          `real server ${rs.address} is not of the virtual server's address family: keepalived skips it`,
        );
        continue;
      }
      // The kernel keys route and tunnel members by the service port (0 for fwmark);
      // keepalived gives a NAT member without a port the service's port.
      let port = rs.port ?? 0;
      if (forward !== "masq") {
        if (port !== 0 && port !== servicePort) {
          this.warn(
            rs.source,
            `real server port ${port} differs from the service's: keepalived uses ${servicePort}`,
          );
        }
        port = servicePort;
      } else if (port === 0) port = servicePort;
      if (result.some((r) => r.address === rs.address && r.port === port)) {
        this.warn(
          rs.source,
          `real server ${rs.address}:${port} is duplicated: keepalived removes this one`,
        );
        continue;
      }
      const tunnelSetting = forward === "tunnel" ? (rs.tunnel ?? vs.tunnel) : null;
      result.push({
        address: rs.address,
        port,
        forward,
        weight: rs.weight ?? vs.weight ?? 1,
        upperThreshold: rs.upperThreshold,
        lowerThreshold: rs.lowerThreshold,
        tunnel:
          forward === "tunnel"
            ? {
                type: tunnelSetting?.type ?? "ipip",
                port: tunnelSetting?.port ?? null,
                noChecksum: tunnelSetting?.noChecksum ?? false,
              }
            : null,
        source: rs.source,
        weightSource: rs.node.block?.children.find((c) => c.keyword === "weight")?.source ?? null,
        inhibitOnFailure: rs.inhibitOnFailure ?? vs.inhibitOnFailure,
        checkers: rs.checkers.map((c) => c.keyword),
        dynamicWeight: rs.checkers.some((c) => c.kind === "MISC_CHECK" && c.miscDynamic),
        realServer: rs,
      });
    }
    return result;
  }

  program(vs: VirtualServer): void {
    if (vs.realServers.length === 0) {
      this.warn(vs.source, "virtual server has no real servers: keepalived ignores it");
      return;
    }
    const family = this.family(vs);
    const keys = this.keys(vs, family);
    const scheduler = this.scheduler(vs);
    if (keys === null || scheduler === null) return;
    if (vs.forward === null && vs.realServers.some((r) => r.forward === null)) {
      this.warn(vs.source, "no lb_kind set: keepalived uses NAT");
    }
    for (const { key, entry } of keys) {
      let timeout = vs.persistenceTimeout;
      if (
        timeout === null &&
        (vs.persistenceGranularity !== null || (key.kind !== "fwm" && key.port === 0))
      ) {
        timeout = DEFAULT_PERSISTENCE;
      }
      const ops = vs.ops && (key.kind === "udp" || key.kind === "fwm");
      if (vs.ops && !ops) this.warn(vs.source, "ops needs UDP: keepalived resets it");
      if (this.services.some((s) => sameServiceKey(s.key, key))) {
        this.warn(entry ?? vs.source, "this service is defined twice: the kernel holds it once");
        continue;
      }
      const servicePort = key.kind === "fwm" ? 0 : key.port;
      const sorry = vs.sorryServer;
      const sorryForward = sorry?.forward ?? vs.forward ?? "masq";
      this.services.push({
        key,
        scheduler,
        persistence:
          timeout === null
            ? null
            : { timeout, netmask: netmaskOf(vs.persistenceGranularity, family) },
        ops,
        schedFlags: vs.schedFlags,
        pe: vs.persistenceEngine,
        source: vs.source,
        groupEntry: entry,
        virtualServer: vs,
        quorum: vs.quorum ?? 1,
        hysteresis: vs.hysteresis ?? 0,
        sorryServer:
          sorry === null
            ? null
            : {
                address: sorry.address,
                port:
                  sorryForward === "masq" && (sorry.port ?? 0) !== 0
                    ? (sorry.port ?? 0)
                    : servicePort,
                forward: sorryForward,
                inhibit: sorry.inhibit,
                source: sorry.node.source,
              },
        realservers: this.realservers(vs, key, family),
      });
    }
  }
}

/** The virtual services and realservers keepalived programs from `config`. */
export function programmedServices(config: KeepalivedConfig): Programmed {
  const programmer = new Programmer(config);
  for (const vs of config.virtualServers) programmer.program(vs);
  return { services: programmer.services, findings: programmer.findings };
}
