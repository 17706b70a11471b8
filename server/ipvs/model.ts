/**
 * The IPVS domain model: what a director's kernel holds, in the operator's words.
 *
 * Pure: no I/O. Every schema here is shared by the parsers (what we read), the command
 * builders and planner (what we write), the tRPC routers (what the browser sends) and the
 * forms in the UI (validation as you type), so the same rule is enforced everywhere.
 */
import { z } from "zod";

/** Schedulers the lab kernel (Debian UML 6.1) ships as modules; `twos` is not built there. */
export const SCHEDULERS = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
] as const;
export const schedulerSchema = z.enum(SCHEDULERS, {
  error: (issue) =>
    `unknown scheduler ${JSON.stringify(issue.input)}: the kernel knows ${SCHEDULERS.join(", ")}`,
});
export type Scheduler = z.infer<typeof schedulerSchema>;

/** Scheduler flags (`-b`): only meaningful for sh and mh. */
export const SCHED_FLAGS = ["sh-fallback", "sh-port", "mh-fallback", "mh-port"] as const;
export const schedFlagSchema = z.enum(SCHED_FLAGS);
export type SchedFlag = z.infer<typeof schedFlagSchema>;

export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export const protocolSchema = z.enum(PROTOCOLS);
export type Protocol = z.infer<typeof protocolSchema>;

export const FORWARD_METHODS = ["masq", "route", "tunnel"] as const;
export const forwardSchema = z.enum(FORWARD_METHODS);
/** masq = NAT (-m), route = direct routing (-g), tunnel = IPIP/GUE/GRE (-i). */
export type ForwardMethod = z.infer<typeof forwardSchema>;

export const TUNNEL_TYPES = ["ipip", "gue", "gre"] as const;
export const tunnelTypeSchema = z.enum(TUNNEL_TYPES);

export const WEIGHT_MAX = 2147483647;
/** IPVS stores thresholds as u32; 0 means "no limit". */
export const THRESHOLD_MAX = 4294967295;
/** Persistence timeout in seconds; ipvsadm rejects 0 and the kernel caps it to u32 jiffies. */
export const PERSISTENCE_MAX = 31536000;

/**
 * Canonical textual form of an address, the way ipvsadm -n prints it: dotted quad for IPv4,
 * RFC 5952 lower-case compressed form for IPv6. Returns null when the text is no address.
 */
export function canonicalAddress(text: string): string | null {
  // No node:net here: the same schemas validate forms in the browser.
  if (IPV4.test(text)) return text;
  if (text.includes(":") && /^[0-9a-fA-F:.]+$/.test(text)) {
    // The URL parser validates IPv6 and applies RFC 5952 compression, in Node and browsers.
    try {
      const host = new URL(`http://[${text}]/`).hostname;
      return host.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

export function addressFamily(address: string): "inet" | "inet6" {
  return address.includes(":") ? "inet6" : "inet";
}

export const addressSchema = z
  .string()
  .max(64, "an address is at most 64 characters")
  .transform((text, ctx) => {
    const canonical = canonicalAddress(text.trim());
    if (canonical === null) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text.slice(0, 64))} is not an IPv4 or IPv6 address`,
      });
      return z.NEVER;
    }
    return canonical;
  });

export const portSchema = z
  .number({ error: "a port is a whole number from 1 to 65535" })
  .int("a port is a whole number from 1 to 65535")
  .min(1, "a port is a whole number from 1 to 65535")
  .max(65535, "a port is a whole number from 1 to 65535");

/**
 * Port 0 exists in IPVS: a persistent service on every port of its VIP (`-t VIP:0 -p`) and
 * the members of such a service or of a firewall-mark service added without a port. Where
 * it is allowed is a cross-field rule (server/ipvs/rule-checks.ts).
 */
export const portOrZeroSchema = z
  .number({ error: "a port is a whole number from 0 to 65535" })
  .int("a port is a whole number from 0 to 65535")
  .min(0, "a port is a whole number from 0 to 65535")
  .max(65535, "a port is a whole number from 0 to 65535");

export const weightSchema = z
  .number({ error: `a weight is a whole number from 0 to ${WEIGHT_MAX}` })
  .int(`a weight is a whole number from 0 to ${WEIGHT_MAX}`)
  .min(0, `a weight is a whole number from 0 to ${WEIGHT_MAX}`)
  .max(WEIGHT_MAX, `a weight is a whole number from 0 to ${WEIGHT_MAX}`);

export const thresholdSchema = z
  .number({
    error: `a connection threshold is a whole number from 0 (no limit) to ${THRESHOLD_MAX}`,
  })
  .int(`a connection threshold is a whole number from 0 (no limit) to ${THRESHOLD_MAX}`)
  .min(0, `a connection threshold is a whole number from 0 (no limit) to ${THRESHOLD_MAX}`)
  .max(
    THRESHOLD_MAX,
    `a connection threshold is a whole number from 0 (no limit) to ${THRESHOLD_MAX}`,
  );

export const fwmarkSchema = z
  .number({ error: "a firewall mark is a whole number from 1 to 4294967295" })
  .int("a firewall mark is a whole number from 1 to 4294967295")
  .min(1, "a firewall mark is a whole number from 1 to 4294967295")
  .max(4294967295, "a firewall mark is a whole number from 1 to 4294967295");

/** An address and port, e.g. a realserver or a client. */
export const endpointSchema = z.object({ address: addressSchema, port: portOrZeroSchema });
export type Endpoint = z.output<typeof endpointSchema>;

/**
 * Identifies a virtual service on a director: protocol + VIP + port, or a firewall mark
 * (with the address family the mark applies to).
 */
export const serviceKeySchema = z.discriminatedUnion("kind", [
  z.object({ kind: protocolSchema, address: addressSchema, port: portOrZeroSchema }),
  z.object({
    kind: z.literal("fwm"),
    mark: fwmarkSchema,
    family: z.enum(["inet", "inet6"]).default("inet"),
  }),
]);
export type ServiceKey = z.output<typeof serviceKeySchema>;

export const persistenceSchema = z.object({
  /** Seconds a client stays pinned to the realserver it was sent to. */
  timeout: z
    .number({
      error: `a persistence timeout is a whole number of seconds from 1 to ${PERSISTENCE_MAX}`,
    })
    .int(`a persistence timeout is a whole number of seconds from 1 to ${PERSISTENCE_MAX}`)
    .min(1, `a persistence timeout is a whole number of seconds from 1 to ${PERSISTENCE_MAX}`)
    .max(
      PERSISTENCE_MAX,
      `a persistence timeout is a whole number of seconds from 1 to ${PERSISTENCE_MAX}`,
    ),
  /** Clients in the same netmask share a template (IPv4 dotted mask, or an IPv6 prefix length). */
  netmask: z
    .union([addressSchema, z.number().int().min(1).max(128)])
    .nullable()
    .default(null),
});
export type Persistence = z.output<typeof persistenceSchema>;

/** The configuration of a virtual service (what `ipvsadm -A/-E` sets). */
export const serviceRuleSchema = z.object({
  key: serviceKeySchema,
  scheduler: schedulerSchema,
  persistence: persistenceSchema.nullable().default(null),
  /** One-packet scheduling (-o), for UDP services. */
  ops: z.boolean().default(false),
  schedFlags: z.array(schedFlagSchema).default([]),
  /** Persistence engine (--pe), e.g. "sip"; null when none. */
  pe: z
    .string()
    .regex(/^[a-z]{1,16}$/, "a persistence engine name is 1-16 lower-case letters")
    .nullable()
    .default(null),
});
export type ServiceRule = z.output<typeof serviceRuleSchema>;

/** The configuration of a realserver within a service (what `ipvsadm -a/-e` sets). */
export const realserverRuleSchema = z.object({
  address: addressSchema,
  port: portOrZeroSchema,
  forward: forwardSchema,
  weight: weightSchema,
  /** Upper connection threshold (-x); 0 = no limit. */
  upperThreshold: thresholdSchema.default(0),
  /** Lower connection threshold (-y); 0 = no limit. */
  lowerThreshold: thresholdSchema.default(0),
  /** Tunnel details, only for forward = "tunnel". */
  tunnel: z
    .object({
      type: tunnelTypeSchema,
      port: portSchema.nullable().default(null),
      noChecksum: z.boolean().default(false),
    })
    .nullable()
    .default(null),
});
export type RealserverRule = z.output<typeof realserverRuleSchema>;

/** Only the attributes `ipvsadm -a/-e` sets (RealserverState carries counters too), in one key order. */
export function realserverRule(r: RealserverRule): RealserverRule {
  return {
    address: r.address,
    port: r.port,
    forward: r.forward,
    weight: r.weight,
    upperThreshold: r.upperThreshold,
    lowerThreshold: r.lowerThreshold,
    tunnel: r.tunnel
      ? { type: r.tunnel.type, port: r.tunnel.port, noChecksum: r.tunnel.noChecksum }
      : null,
  };
}

/**
 * 64-bit counters. bigint, because byte counters pass 2^53 on a busy director; tRPC's
 * superjson transformer carries bigint to the browser without losing a digit.
 */
export interface Counters {
  conns: bigint;
  inPackets: bigint;
  outPackets: bigint;
  inBytes: bigint;
  outBytes: bigint;
}

/** Per-second rates (ipvsadm --rate, or derived from counter deltas between polls). */
export interface Rates {
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export interface RealserverState extends RealserverRule {
  activeConns: number;
  inactiveConns: number;
  /** Persistence templates pointing at this realserver (--persistent-conn); null if not read. */
  persistentConns: number | null;
  counters: Counters | null;
  rates: Rates | null;
}

export interface ServiceState extends ServiceRule {
  realservers: RealserverState[];
  counters: Counters | null;
  rates: Rates | null;
}

/** What `ipvsadm -S -n` holds: rules only, no counters. */
export interface RuleSet {
  services: Array<ServiceRule & { realservers: RealserverRule[] }>;
}

export const CONNECTION_PROTOCOLS = ["TCP", "UDP", "SCTP", "IP"] as const;
export type ConnectionProtocol = (typeof CONNECTION_PROTOCOLS)[number];

/** One entry of the IPVS connection table (-Lnc or /proc/net/ip_vs_conn). */
export interface ConnectionEntry {
  protocol: ConnectionProtocol;
  /** Seconds until the entry expires. */
  expiresSeconds: number;
  /** TCP/SCTP state (ESTABLISHED, SYN_RECV, TIME_WAIT, ...), "UDP" or "NONE"/"ASSURED" for templates. */
  state: string;
  client: Endpoint;
  virtual: Endpoint;
  destination: Endpoint;
  /** A persistence template (client port 0), not a real connection. */
  template: boolean;
  /** Persistence engine name and data (--persistent-conn), when present. */
  pe: { name: string; data: string } | null;
}

/** `ipvsadm -L --timeout`, in seconds. */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface IpvsadmVersion {
  /** e.g. "1.31" */
  ipvsadm: string;
  /** e.g. "1.2.1" */
  ipvs: string;
  raw: string;
}

/**
 * The sysctls under /proc/sys/net/ipv4/vs, by name (e.g. "expire_quiescent_template").
 * Values are integer vectors: most hold one number, sync_threshold holds two.
 */
export type IpvsSysctls = Record<string, number[]>;

/** Sysctls the console may set, with the values each accepts. */
export const SETTABLE_SYSCTLS = {
  expire_quiescent_template: [0, 1],
  expire_nodest_conn: [0, 1],
  conn_reuse_mode: [0, 1, 2],
  sloppy_tcp: [0, 1],
  sloppy_sctp: [0, 1],
  schedule_icmp: [0, 1],
} as const satisfies Record<string, readonly number[]>;
export type SettableSysctl = keyof typeof SETTABLE_SYSCTLS;

export const sysctlSettingSchema = z
  .object({
    name: z.enum(Object.keys(SETTABLE_SYSCTLS) as [SettableSysctl, ...SettableSysctl[]], {
      error: `the console sets only ${Object.keys(SETTABLE_SYSCTLS).join(", ")}`,
    }),
    value: z.number().int(),
  })
  .superRefine((s, ctx) => {
    const allowed: readonly number[] = SETTABLE_SYSCTLS[s.name];
    if (!allowed.includes(s.value)) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: `net.ipv4.vs.${s.name} accepts ${allowed.join(" or ")}, not ${s.value}`,
      });
    }
  });
export type SysctlSetting = z.output<typeof sysctlSettingSchema>;

/** Display form of a service key: "TCP 203.0.113.10:80", "FWM 1", "UDP [2001:db8::1]:53". */
export function formatServiceKey(key: ServiceKey): string {
  if (key.kind === "fwm") return `FWM ${key.mark}${key.family === "inet6" ? " IPv6" : ""}`;
  return `${key.kind.toUpperCase()} ${formatEndpoint(key)}`;
}

export function formatEndpoint(e: { address: string; port: number }): string {
  return addressFamily(e.address) === "inet6"
    ? `[${e.address}]:${e.port}`
    : `${e.address}:${e.port}`;
}

export function sameServiceKey(a: ServiceKey, b: ServiceKey): boolean {
  if (a.kind === "fwm" || b.kind === "fwm") {
    return a.kind === "fwm" && b.kind === "fwm" && a.mark === b.mark && a.family === b.family;
  }
  return a.kind === b.kind && a.address === b.address && a.port === b.port;
}

export function sameEndpoint(
  a: { address: string; port: number },
  b: { address: string; port: number },
): boolean {
  return a.address === b.address && a.port === b.port;
}
