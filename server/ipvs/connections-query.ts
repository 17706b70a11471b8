/**
 * The connection table query: which entries of one read of /proc/net/ip_vs_conn (held in
 * columns, see server/ipvs/parse/conn-table.ts) match a filter, their counts by state and by
 * realserver, and one page of them. The browser only ever holds counts and the pages under
 * its viewport, so 100k entries scroll like 100.
 *
 * Filtering happens here on the console's copy, never on the director: reading the table is
 * quadratic in the kernel (every read() of the seq_file walks the hash table from the start
 * up to its position), 17 s for 100k entries in the lab, so the table is read in the
 * background (server/live/conn-tables.ts) and a filter costs milliseconds, not a read.
 *
 * Pure: the input schema and the query over a table.
 */
import { z } from "zod";
import { ConsoleError } from "@/server/errors";
import {
  canonicalAddress,
  CONNECTION_PROTOCOLS,
  formatEndpoint,
  formatServiceKey,
  type ConnectionEntry,
  type ServiceKey,
  type ServiceState,
} from "@/server/ipvs/model";
import { connTableEntry, type ConnTable } from "@/server/ipvs/parse/conn-table";

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

/**
 * What a firewall-mark service filter needs: the table shows the packet's real destination,
 * not the mark, so an FWM service's entries are those going to its realservers that no
 * protocol/VIP/port service claims (plus its templates, keyed by the mark itself).
 */
export interface ServiceContext {
  services: ReadonlyArray<Pick<ServiceState, "key" | "realservers">>;
}

/** The entries of one table that match one filter, in table order, with their counts. */
export interface ConnMatch {
  indexes: Uint32Array;
  countsByState: Record<string, number>;
  countsByRealserver: Record<string, number>;
}

export interface ConnectionsPage {
  total: number;
  matched: number;
  entries: ConnectionEntry[];
  countsByState: Record<string, number>;
  countsByRealserver: Record<string, number>;
}

const PROTOCOL_ID = new Map<string, number>(CONNECTION_PROTOCOLS.map((p, i) => [p, i]));
const IP_PROTOCOL = PROTOCOL_ID.get("IP") ?? -1;

/** Distinct address (kernel form) -> id, built once per table when a filter needs it. */
const addressIndexes = new WeakMap<ConnTable, Map<string, number>>();
function addressId(table: ConnTable, address: string): number {
  let index = addressIndexes.get(table);
  if (!index) {
    index = new Map(table.addresses.map((a, i) => [a, i]));
    addressIndexes.set(table, index);
  }
  return index.get(procAddress(address)) ?? -1;
}

/** Whether the kernel-form address `procText` lies in `net`/`bits` (net: addressToHex form). */
function inPrefix(procText: string, net: string, bits: number): boolean {
  const hex = procText.length === 8 ? procText : procText.replaceAll(":", "").toUpperCase();
  if (hex.length !== net.length) return false;
  const whole = Math.floor(bits / 4);
  if (hex.slice(0, whole) !== net.slice(0, whole)) return false;
  const rest = bits % 4;
  if (rest === 0) return true;
  const mask = (0xf << (4 - rest)) & 0xf;
  return (
    (Number.parseInt(hex[whole] ?? "0", 16) & mask) ===
    (Number.parseInt(net[whole] ?? "0", 16) & mask)
  );
}

/** Port and id in one number: ids are below 2^32, so this stays an exact integer. */
const endpointKey = (id: number, port: number) => id * 65536 + port;

export function matchConnTable(
  table: ConnTable,
  filter: ConnectionFilter,
  context: ServiceContext | null,
): ConnMatch {
  const { size } = table;
  const stateId = filter.state === undefined ? -1 : table.states.indexOf(filter.state);
  const noMatch = filter.state !== undefined && stateId < 0;

  // Per distinct address, decided once.
  let clientOk: Uint8Array | null = null;
  if (filter.client) {
    const { hex, bits } = filter.client;
    clientOk = Uint8Array.from(table.addresses, (a) => (inPrefix(a, hex, bits) ? 1 : 0));
  }
  const rsId = filter.realserver ? addressId(table, filter.realserver.address) : -2;
  const rsPort = filter.realserver?.port ?? null;

  let serviceProto = -1;
  let serviceAddress = -2;
  let servicePort = 0;
  let fwm: { markHex: string; dests: Set<number>; claimed: Set<number> } | null = null;
  const service = filter.service;
  if (service && service.kind !== "fwm") {
    serviceProto = PROTOCOL_ID.get(service.kind.toUpperCase()) ?? -1;
    serviceAddress = addressId(table, service.address);
    servicePort = service.port;
  } else if (service) {
    const target = context?.services.find(
      (s) => s.key.kind === "fwm" && s.key.mark === service.mark && s.key.family === service.family,
    );
    if (!target) {
      throw new ConsoleError(
        "NOT_FOUND",
        `the director has no service ${formatServiceKey(service)}`,
        { service: formatServiceKey(service) },
      );
    }
    fwm = {
      markHex: service.mark.toString(16).toUpperCase().padStart(8, "0"),
      dests: new Set(
        target.realservers.map((r) => endpointKey(addressId(table, r.address), r.port)),
      ),
      claimed: new Set(
        (context?.services ?? []).flatMap((s) =>
          s.key.kind === "fwm"
            ? []
            : [
                (PROTOCOL_ID.get(s.key.kind.toUpperCase()) ?? 0) * 2 ** 48 +
                  endpointKey(addressId(table, s.key.address), s.key.port),
              ],
        ),
      ),
    };
  }
  // A template of a firewall-mark service carries the mark where the VIP would be.
  const markOk = fwm
    ? Uint8Array.from(table.addresses, (a) =>
        a.replaceAll(":", "").slice(0, 8).toUpperCase() === fwm.markHex ? 1 : 0,
      )
    : null;

  const indexes = new Uint32Array(noMatch ? 0 : size);
  const stateCounts = new Uint32Array(table.states.length);
  const rsCounts = new Map<number, number>();
  let matched = 0;
  for (let i = 0; i < size && !noMatch; i++) {
    if (stateId >= 0 && table.state[i] !== stateId) continue;
    if (filter.templates !== undefined && (table.clientPort[i] === 0) !== filter.templates)
      continue;
    if (clientOk && clientOk[table.client[i] ?? 0] !== 1) continue;
    const dest = table.destination[i] ?? 0;
    const destPort = table.destinationPort[i] ?? 0;
    if (rsId !== -2 && (dest !== rsId || (rsPort !== null && destPort !== rsPort))) continue;
    const proto = table.protocol[i] ?? 0;
    const virtual = table.virtual[i] ?? 0;
    if (
      serviceProto !== -1 &&
      (proto !== serviceProto || virtual !== serviceAddress || table.virtualPort[i] !== servicePort)
    )
      continue;
    if (fwm && markOk) {
      if (proto === IP_PROTOCOL) {
        if (markOk[virtual] !== 1) continue;
      } else {
        if (!fwm.dests.has(endpointKey(dest, destPort))) continue;
        if (fwm.claimed.has(proto * 2 ** 48 + endpointKey(virtual, table.virtualPort[i] ?? 0)))
          continue;
      }
    }
    indexes[matched++] = i;
    const state = table.state[i] ?? 0;
    stateCounts[state] = (stateCounts[state] ?? 0) + 1;
    const key = endpointKey(dest, destPort);
    rsCounts.set(key, (rsCounts.get(key) ?? 0) + 1);
  }

  const countsByState: Record<string, number> = {};
  stateCounts.forEach((n, id) => {
    if (n > 0) countsByState[table.states[id] ?? ""] = n;
  });
  const countsByRealserver: Record<string, number> = {};
  for (const [key, n] of rsCounts) {
    const id = Math.floor(key / 65536);
    const shown = formatEndpoint({ address: table.display[id] ?? "", port: key % 65536 });
    countsByRealserver[shown] = (countsByRealserver[shown] ?? 0) + n;
  }
  return { indexes: indexes.slice(0, matched), countsByState, countsByRealserver };
}

export function connectionsPage(
  table: ConnTable,
  match: ConnMatch,
  page: { offset: number; limit: number },
): ConnectionsPage {
  const entries: ConnectionEntry[] = [];
  const end = Math.min(match.indexes.length, page.offset + page.limit);
  for (let k = page.offset; k < end; k++)
    entries.push(connTableEntry(table, match.indexes[k] ?? 0));
  return {
    total: table.size,
    matched: match.indexes.length,
    entries,
    countsByState: match.countsByState,
    countsByRealserver: match.countsByRealserver,
  };
}
