/**
 * The connection table, filtered, counted and paged ON THE DIRECTOR: a busy director holds
 * hundreds of thousands of entries, and the browser only ever needs counts and one page.
 * One awk process reads /proc/net/ip_vs_conn (hex addresses and ports); the filter arrives
 * pre-converted to that hex form as `awk -v` arguments, so the program text is fixed and
 * no value is ever part of it. POSIX awk only: directors run mawk or busybox awk.
 *
 * Pure: the input schema, the argv and the parser of awk's output.
 */
import { z } from "zod";
import { ConsoleError } from "@/server/errors";
import {
  canonicalAddress,
  formatEndpoint,
  formatServiceKey,
  type ConnectionEntry,
  type ServiceKey,
  type ServiceState,
} from "@/server/ipvs/model";
import { parseProcConnections } from "@/server/ipvs/parse";

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

const portHex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");

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
});
export type ConnectionsQueryInput = z.input<typeof connectionsQuerySchema>;
export type ConnectionsQuery = z.output<typeof connectionsQuerySchema>;

export const CONNECTIONS_AWK = `
function hexval(c) { return index("0123456789ABCDEF", c) - 1 }
function norm(a) { gsub(/:/, "", a); return toupper(a) }
function inprefix(a, net, bits,   n, r, d, x, y) {
  if (length(a) != length(net)) return 0
  n = int(bits / 4)
  if (n > 0 && substr(a, 1, n) != substr(net, 1, n)) return 0
  r = bits % 4
  if (r == 0) return 1
  d = 2 ^ (4 - r)
  x = hexval(substr(a, n + 1, 1)); y = hexval(substr(net, n + 1, 1))
  return (x - x % d) == (y - y % d)
}
BEGIN { off += 0; lim += 0; cbits += 0; total = 0; m = 0 }
NR == 1 { print "H " $0; next }
NF < 9 { next }
{
  total++
  if (state != "" && $8 != state) next
  if (tpl == "1" && $3 != "0000") next
  if (tpl == "0" && $3 == "0000") next
  if (cnet != "" && !inprefix(norm($2), cnet, cbits)) next
  if (raddr != "" && $6 != raddr) next
  if (rport != "" && $7 != rport) next
  if (sproto != "" && ($1 != sproto || $4 != saddr || $5 != sport)) next
  if (fwm != "") {
    if ($1 == "IP") { if (substr(norm($4), 1, 8) != fwm) next }
    else {
      if (index(fwdests, " " $6 ":" $7 " ") == 0) next
      if (index(svckeys, " " $1 ":" $4 ":" $5 " ") > 0) next
    }
  }
  m++
  st[$8]++
  rs[$6 " " $7]++
  if (m > off && m <= off + lim) print "E " $0
}
END {
  print "T " total
  print "M " m
  for (k in st) print "S " k " " st[k]
  for (k in rs) print "R " k " " rs[k]
}
`;

/**
 * What a firewall-mark service filter needs: the table shows the packet's real destination,
 * not the mark, so an FWM service's entries are those going to its realservers that no
 * protocol/VIP/port service claims (plus its templates, keyed by the mark itself).
 */
export interface ServiceContext {
  services: ReadonlyArray<Pick<ServiceState, "key" | "realservers">>;
}

export function connectionsArgv(
  filter: ConnectionFilter,
  page: { offset: number; limit: number },
  context: ServiceContext | null,
  file = "/proc/net/ip_vs_conn",
): string[] {
  const vars: Record<string, string> = {
    state: filter.state ?? "",
    tpl: filter.templates === undefined ? "" : filter.templates ? "1" : "0",
    cnet: filter.client?.hex ?? "",
    cbits: String(filter.client?.bits ?? 0),
    raddr: filter.realserver ? procAddress(filter.realserver.address) : "",
    rport: filter.realserver?.port ? portHex(filter.realserver.port) : "",
    sproto: "",
    saddr: "",
    sport: "",
    fwm: "",
    fwdests: "",
    svckeys: "",
    off: String(page.offset),
    lim: String(page.limit),
  };
  const service = filter.service;
  if (service && service.kind !== "fwm") {
    vars.sproto = service.kind.toUpperCase();
    vars.saddr = procAddress(service.address);
    vars.sport = portHex(service.port);
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
    vars.fwm = service.mark.toString(16).toUpperCase().padStart(8, "0");
    vars.fwdests = ` ${target.realservers.map((r) => `${procAddress(r.address)}:${portHex(r.port)}`).join(" ")} `;
    vars.svckeys = ` ${(context?.services ?? [])
      .flatMap((s) =>
        s.key.kind === "fwm"
          ? []
          : [`${s.key.kind.toUpperCase()}:${procAddress(s.key.address)}:${portHex(s.key.port)}`],
      )
      .join(" ")} `;
  }
  return [
    "awk",
    ...Object.entries(vars).flatMap(([name, value]) => ["-v", `${name}=${value}`]),
    CONNECTIONS_AWK,
    file,
  ];
}

export interface ConnectionsPage {
  takenAt: number;
  total: number;
  matched: number;
  entries: ConnectionEntry[];
  countsByState: Record<string, number>;
  countsByRealserver: Record<string, number>;
}

function hexToDisplay(procText: string, portHexText: string): string {
  const port = Number.parseInt(portHexText, 16);
  const addressHex = procText.replaceAll(":", "");
  let address: string | null;
  if (addressHex.length === 8) {
    const value = Number.parseInt(addressHex, 16);
    address = [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
  } else {
    address = canonicalAddress(addressHex.match(/.{4}/g)?.join(":") ?? "");
  }
  return formatEndpoint({ address: address ?? addressHex, port });
}

export function parseConnectionsOutput(stdout: string, takenAt: number): ConnectionsPage {
  let title = "";
  const lines: string[] = [];
  let total: number | null = null;
  let matched: number | null = null;
  const countsByState: Record<string, number> = {};
  const countsByRealserver: Record<string, number> = {};
  for (const line of stdout.split("\n")) {
    const kind = line.slice(0, 2);
    const rest = line.slice(2);
    if (kind === "H ") title = rest;
    else if (kind === "E ") lines.push(rest);
    else if (kind === "T ") total = Number(rest);
    else if (kind === "M ") matched = Number(rest);
    else if (kind === "S ") {
      const [state = "", count = "0"] = rest.split(" ");
      countsByState[state] = Number(count);
    } else if (kind === "R ") {
      const [address = "", port = "0", count = "0"] = rest.split(" ");
      const key = hexToDisplay(address, port);
      countsByRealserver[key] = (countsByRealserver[key] ?? 0) + Number(count);
    }
  }
  if (
    total === null ||
    matched === null ||
    !Number.isFinite(total) ||
    !Number.isFinite(matched) ||
    title === ""
  ) {
    throw new ConsoleError("PARSE_ERROR", "the connection table query printed no totals", {
      source: "/proc/net/ip_vs_conn",
      line: stdout.slice(0, 200),
    });
  }
  const entries = lines.length === 0 ? [] : parseProcConnections([title, ...lines].join("\n"));
  return { takenAt, total, matched, entries, countsByState, countsByRealserver };
}
