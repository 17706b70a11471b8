/**
 * Shared pieces of the parsers: splitting text into numbered lines, and reading one field
 * at a time with a typed PARSE_ERROR that names the format, the line number and the line.
 *
 * Every parser reads whitespace-separated fields, never columns: ipvsadm pads with printf
 * widths that large values (a weight of 2147483647, 10-digit counters) overflow.
 */
import { ConsoleError } from "@/server/errors";
import {
  canonicalAddress,
  schedFlagSchema,
  schedulerSchema,
  type Endpoint,
  type Persistence,
  type SchedFlag,
  type Scheduler,
  type ServiceKey,
} from "@/server/ipvs/model";

export type ParseSource =
  | "ipvsadm -Ln"
  | "ipvsadm -Ln --stats"
  | "ipvsadm -Ln --rate"
  | "ipvsadm -Sn"
  | "ipvsadm -Lnc"
  | "/proc/net/ip_vs_conn"
  | "/proc/net/ip_vs"
  | "/proc/net/ip_vs_stats"
  | "ipvsadm -L --timeout"
  | "ipvsadm --version"
  | "net.ipv4.vs sysctls"
  | "merge";

export function parseError(
  source: ParseSource,
  lineNumber: number,
  line: string,
  message: string,
): ConsoleError {
  return new ConsoleError(
    "PARSE_ERROR",
    `${source}, line ${lineNumber}: ${message}: ${JSON.stringify(line.slice(0, 200))}`,
    { source, lineNumber, line },
  );
}

export const U32_MAX = 4294967295;

/** One non-blank input line, split into fields, with helpers that fail with its context. */
export class SourceLine {
  readonly fields: string[];

  constructor(
    readonly source: ParseSource,
    readonly lineNumber: number,
    readonly text: string,
  ) {
    const trimmed = text.trim();
    this.fields = trimmed === "" ? [] : trimmed.split(/\s+/);
  }

  error(message: string): ConsoleError {
    return parseError(this.source, this.lineNumber, this.text, message);
  }

  /** For expression positions (`a ?? line.fail(...)`); statements use `throw line.error(...)`. */
  fail(message: string): never {
    throw this.error(message);
  }

  field(index: number, what: string): string {
    const value = this.fields[index];
    if (value === undefined) this.fail(`missing ${what} (field ${index + 1})`);
    return value;
  }

  /** Requires exactly `count` fields: a missing or extra field means a format we do not know. */
  expectFieldCount(count: number, what: string): void {
    if (this.fields.length !== count) {
      this.fail(`${what} has ${this.fields.length} fields, expected ${count}`);
    }
  }

  /** A decimal whole number from min to max. */
  int(index: number, what: string, max: number, min = 0): number {
    const text = this.field(index, what);
    if (!/^\d+$/.test(text)) this.fail(`${what} ${JSON.stringify(text)} is not a whole number`);
    const value = Number(text);
    if (value < min || value > max) this.fail(`${what} ${text} is outside ${min}..${max}`);
    return value;
  }

  /** A whole number printed in hexadecimal (the /proc files), up to 2^53. */
  hex(index: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.field(index, what);
    if (!/^[0-9A-Fa-f]+$/.test(text))
      this.fail(`${what} ${JSON.stringify(text)} is not hexadecimal`);
    const value = Number.parseInt(text, 16);
    if (value > max) this.fail(`${what} ${text} is larger than ${max}`);
    return value;
  }

  hexBigint(index: number, what: string): bigint {
    const text = this.field(index, what);
    if (!/^[0-9A-Fa-f]+$/.test(text))
      this.fail(`${what} ${JSON.stringify(text)} is not hexadecimal`);
    return BigInt(`0x${text}`);
  }

  /** `203.0.113.10:80` or `[2001:db8::1]:80`; port 0 is real in IPVS (all-ports services, fwmark members). */
  endpoint(index: number, what: string, allowPortZero = true): Endpoint {
    return this.endpointOf(this.field(index, what), what, allowPortZero);
  }

  endpointOf(text: string, what: string, allowPortZero = true): Endpoint {
    const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
    const address = match?.[1] === undefined ? null : canonicalAddress(match[1]);
    if (match === null || address === null || match[2] === undefined) {
      this.fail(`${what} ${JSON.stringify(text)} is not an address:port`);
    }
    const port = Number(match[2]);
    if (port > 65535 || (port === 0 && !allowPortZero)) {
      this.fail(`${what} ${JSON.stringify(text)} has port ${match[2]}, outside 0..65535`);
    }
    return { address, port };
  }
}

/**
 * An address as the kernel's /proc files print it: `CB00710A` (IPv4, 8 hex digits) or the
 * full IPv6 form `2001:0db8:0100:0000:0000:0000:0000:0010`. Null when it is neither.
 */
export function hexAddress(text: string): string | null {
  if (/^[0-9A-Fa-f]{8}$/.test(text)) {
    const value = Number.parseInt(text, 16);
    return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
  }
  return text.includes(":") ? canonicalAddress(text) : null;
}

/** The non-blank lines of `text`, numbered from 1 as an editor would; CRLF is accepted. */
export function sourceLines(source: ParseSource, text: string): SourceLine[] {
  const result: SourceLine[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() !== "") result.push(new SourceLine(source, index + 1, line));
  });
  return result;
}

/** For formats that always print something: empty output means the read went wrong. */
export function requireNonEmpty(source: ParseSource, lines: SourceLine[]): SourceLine {
  const first = lines[0];
  if (first === undefined) throw parseError(source, 1, "", "the output is empty");
  return first;
}

export function fieldsAre(line: SourceLine | undefined, expected: readonly string[]): boolean {
  return (
    line !== undefined &&
    line.fields.length === expected.length &&
    line.fields.every((field, index) => field === expected[index])
  );
}

export function parseScheduler(line: SourceLine, text: string): Scheduler {
  const parsed = schedulerSchema.safeParse(text);
  if (!parsed.success) line.fail(`unknown scheduler ${JSON.stringify(text)}`);
  return parsed.data;
}

/** `sh-fallback,sh-port` (ipvsadm prints `(sh-fallback,sh-port)` in listings). */
export function parseSchedFlags(line: SourceLine, text: string): SchedFlag[] {
  return text.split(",").map((flag) => {
    const parsed = schedFlagSchema.safeParse(flag);
    if (!parsed.success) line.fail(`unknown scheduler flag ${JSON.stringify(flag)}`);
    return parsed.data;
  });
}

/** A persistence netmask: dotted IPv4 mask, or an IPv6 prefix length. */
export function parseNetmask(line: SourceLine, text: string): NonNullable<Persistence["netmask"]> {
  if (/^\d+$/.test(text)) {
    const prefix = Number(text);
    if (prefix < 1 || prefix > 128) line.fail(`netmask prefix length ${text} is outside 1..128`);
    return prefix;
  }
  const address = canonicalAddress(text);
  if (address === null || address.includes(":")) {
    line.fail(`netmask ${JSON.stringify(text)} is neither a dotted IPv4 mask nor a prefix length`);
  }
  return address;
}

const LIST_PROTOCOLS: Record<string, "tcp" | "udp" | "sctp"> = {
  TCP: "tcp",
  UDP: "udp",
  SCTP: "sctp",
};

/**
 * The service key at the start of a listing's service line: `TCP  203.0.113.10:80`,
 * `FWM  1` or `FWM  1 IPv6`. Returns the key and the index of the first field after it.
 */
export function parseListedServiceKey(line: SourceLine): { key: ServiceKey; next: number } {
  const protocol = line.field(0, "protocol");
  if (protocol === "FWM") {
    const mark = line.int(1, "firewall mark", U32_MAX, 1);
    if (line.fields[2] === "IPv6") return { key: { kind: "fwm", mark, family: "inet6" }, next: 3 };
    return { key: { kind: "fwm", mark, family: "inet" }, next: 2 };
  }
  const kind = LIST_PROTOCOLS[protocol];
  if (kind === undefined) line.fail(`unknown protocol ${JSON.stringify(protocol)}`);
  const { address, port } = line.endpoint(1, "virtual address");
  return { key: { kind, address, port }, next: 2 };
}

/** A realserver line of a listing starts with `->`. */
export function isRealserverLine(line: SourceLine): boolean {
  return line.fields[0] === "->";
}
