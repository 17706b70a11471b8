/**
 * The connection table filter as the API takes it: states, client (address or prefix),
 * realserver, service, text forms parsed with clear errors, and the kernel's hex address form
 * /proc/net/ip_vs_conn prints. The query over a table is connections-query.ts.
 *
 * Pure.
 */
import { z } from "zod";
import { canonicalAddress, type ServiceKey } from "@/server/ipvs/model";

/** State names the kernel prints: TCP, UDP, SCTP, and NONE/ASSURED for persistence templates. */
export const CONNECTION_STATES = [
  "NONE",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "SYNACK",
  "UDP",
  "ASSURED",
  "INIT1",
  "INIT",
  "COOKIE_SENT",
  "COOKIE_REPLIED",
  "COOKIE_WAIT",
  "COOKIE_ECHOED",
  "SHUTDOWN_SENT",
  "SHUTDOWN_RECEIVED",
  "SHUTDOWN_ACK_SENT",
  "REJECTED",
  "CLOSED",
] as const;

/** An address in the kernel's /proc form: 8 hex digits (IPv4) or 32 (IPv6), upper case. */
export function addressToHex(address: string): string {
  if (!address.includes(":")) {
    return address
      .split(".")
      .map((octet) => Number(octet).toString(16).padStart(2, "0"))
      .join("")
      .toUpperCase();
  }
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const hex = addressToHex(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${hex.slice(0, 4)}:${hex.slice(4)}`;
  }
  const [head = "", tail] = text.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...middle, ...right]
    .map((g) => g.padStart(4, "0"))
    .join("")
    .toUpperCase();
}

/**
 * An address exactly as /proc/net/ip_vs_conn prints it (`%08X` for IPv4, `%pI6`: eight
 * lower-case groups of four for IPv6), so awk compares fields as they are instead of
 * normalising every line of a table that may hold hundreds of thousands.
 */
export function procAddress(address: string): string {
  const hex = addressToHex(address);
  return hex.length === 8 ? hex : (hex.toLowerCase().match(/.{4}/g) ?? []).join(":");
}

function parseAddress(text: string, ctx: z.RefinementCtx, what: string): string | null {
  const address = canonicalAddress(text);
  if (address === null) {
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(text.slice(0, 64))} is not an IPv4 or IPv6 ${what}`,
    });
  }
  return address;
}

function parsePort(text: string, ctx: z.RefinementCtx): number | null {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    ctx.addIssue({ code: "custom", message: "a port is a whole number from 1 to 65535" });
    return null;
  }
  return port;
}

/** "203.0.113.0/24", "203.0.113.7", "2001:db8::/32" */
const clientSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const [addressText = "", bitsText, extra] = text.trim().split("/");
    if (extra !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: "a client is an address or a prefix like 203.0.113.0/24",
      });
      return z.NEVER;
    }
    const address = parseAddress(addressText, ctx, "address or prefix");
    if (address === null) return z.NEVER;
    const max = address.includes(":") ? 128 : 32;
    const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
    if (!(bits >= 0 && bits <= max)) {
      ctx.addIssue({
        code: "custom",
        message: `a prefix length is a whole number from 0 to ${max}`,
      });
      return z.NEVER;
    }
    return { address, bits, hex: addressToHex(address) };
  });

/** "10.10.0.11", "10.10.0.11:80", "[2001:db8::11]:80", "2001:db8::11" */
const realserverSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const t = text.trim();
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
    const v4 = /^([\d.]+)(?::(\d+))?$/.exec(t);
    const addressText = bracketed?.[1] ?? v4?.[1] ?? t;
    const portText = bracketed ? bracketed[2] : v4 ? v4[2] : undefined;
    const address = parseAddress(addressText, ctx, "realserver address");
    if (address === null) return z.NEVER;
    const port = portText === undefined ? null : parsePort(portText, ctx);
    if (portText !== undefined && port === null) return z.NEVER;
    return { address, port };
  });

/** The display form of a service key: "TCP 203.0.113.10:80", "UDP [2001:db8::1]:53", "FWM 1". */
export function parseServiceDisplay(text: string): ServiceKey | null {
  const t = text.trim();
  const fwm = /^FWM (\d{1,10})( IPv6)?$/i.exec(t);
  if (fwm?.[1]) {
    const mark = Number(fwm[1]);
    return mark >= 1 && mark <= 4294967295
      ? { kind: "fwm", mark, family: fwm[2] ? "inet6" : "inet" }
      : null;
  }
  const m = /^(TCP|UDP|SCTP) +(?:\[([^\]]+)\]|([\d.]+)):(\d{1,5})$/i.exec(t);
  const proto = m?.[1]?.toLowerCase();
  const address = canonicalAddress(m?.[2] ?? m?.[3] ?? "");
  const port = Number(m?.[4]);
  if (
    (proto !== "tcp" && proto !== "udp" && proto !== "sctp") ||
    address === null ||
    !(port >= 1 && port <= 65535)
  )
    return null;
  return { kind: proto, address, port };
}

const serviceSchema = z
  .string()
  .max(80)
  .transform((text, ctx) => {
    const key = parseServiceDisplay(text);
    if (key === null) {
      ctx.addIssue({
        code: "custom",
        message: 'a service is written like "TCP 203.0.113.10:80" or "FWM 1"',
      });
      return z.NEVER;
    }
    return key;
  });

export const connectionFilterSchema = z.object({
  state: z
    .string()
    .max(32)
    .refine(
      (s) => (CONNECTION_STATES as readonly string[]).includes(s),
      `a state is one of ${CONNECTION_STATES.join(", ")}`,
    )
    .optional(),
  client: clientSchema.optional(),
  realserver: realserverSchema.optional(),
  service: serviceSchema.optional(),
  /** true: only persistence templates; false: only connections; absent: both. */
  templates: z.boolean().optional(),
});
export type ConnectionFilterInput = z.input<typeof connectionFilterSchema>;
export type ConnectionFilter = z.output<typeof connectionFilterSchema>;

export const connectionsQuerySchema = z.object({
  directorId: z.string().min(1).max(64),
  filter: connectionFilterSchema.default({}),
  offset: z.number().int().min(0).max(10_000_000).default(0),
  limit: z.number().int().min(1).max(500, "at most 500 entries per page").default(100),
  /** Answer from this read of the table (a paused view); absent: the latest read. */
  readId: z.number().int().min(1).optional(),
});
export type ConnectionsQueryInput = z.input<typeof connectionsQuerySchema>;
export type ConnectionsQuery = z.output<typeof connectionsQuerySchema>;
