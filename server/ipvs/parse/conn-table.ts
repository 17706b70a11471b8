/**
 * /proc/net/ip_vs_conn read into columns. A busy director holds 100k entries and more: as
 * ConnectionEntry objects that is tens of MB of heap rebuilt at every read, as typed columns
 * a few MB, and a filter over it is a loop over small integers.
 *
 * Addresses and states are interned: a table has few VIPs, few realservers and a handful of
 * states, so a filter decides once per distinct address (a client prefix, say) and then
 * only compares ids. The text is scanned by hand instead of split into field arrays: at
 * 100k lines the split alone costs more than the rest of the parse.
 *
 * The format is the kernel's (`ip_vs_conn_seq_show`): `%-3s %08X %04X %08X %04X %08X %04X
 * %-11s %7u` for IPv4, `%pI6` (eight groups of four lower-case hex digits) for IPv6, and
 * ` %s %s` (persistence engine name and data) when the entry has one.
 */
import {
  CONNECTION_PROTOCOLS,
  type ConnectionEntry,
  type ConnectionProtocol,
} from "@/server/ipvs/model";
import { hexAddress, parseError } from "./common";

const SOURCE = "/proc/net/ip_vs_conn";
const TITLE = ["Pro", "FromIP", "FPrt", "ToIP", "TPrt", "DestIP", "DPrt", "State", "Expires"];

export interface ConnTable {
  readonly size: number;
  /** Index into CONNECTION_PROTOCOLS. */
  readonly protocol: Uint8Array;
  /** Index into `states`. */
  readonly state: Uint8Array;
  readonly expires: Uint32Array;
  /** Indexes into `addresses`. */
  readonly client: Uint32Array;
  readonly virtual: Uint32Array;
  readonly destination: Uint32Array;
  readonly clientPort: Uint16Array;
  readonly virtualPort: Uint16Array;
  readonly destinationPort: Uint16Array;
  /** Distinct addresses exactly as the kernel prints them (see procAddress). */
  readonly addresses: readonly string[];
  /** The same addresses in display form ("203.0.113.10", "2001:db8::10"). */
  readonly display: readonly string[];
  readonly states: readonly string[];
  /** Persistence-engine columns of the few entries that have them (--pe sip). */
  readonly pe: ReadonlyMap<number, { name: string; data: string }>;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

/** Grows by doubling: the entry count is known only at the end of the text. */
class Columns {
  capacity = 0;
  protocol = new Uint8Array(0);
  state = new Uint8Array(0);
  expires = new Uint32Array(0);
  client = new Uint32Array(0);
  virtual = new Uint32Array(0);
  destination = new Uint32Array(0);
  clientPort = new Uint16Array(0);
  virtualPort = new Uint16Array(0);
  destinationPort = new Uint16Array(0);

  constructor(capacity: number) {
    this.grow(capacity);
  }

  grow(capacity: number): void {
    const copy = <T extends Uint8Array | Uint16Array | Uint32Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.protocol = copy(this.protocol, (n) => new Uint8Array(n));
    this.state = copy(this.state, (n) => new Uint8Array(n));
    this.expires = copy(this.expires, (n) => new Uint32Array(n));
    this.client = copy(this.client, (n) => new Uint32Array(n));
    this.virtual = copy(this.virtual, (n) => new Uint32Array(n));
    this.destination = copy(this.destination, (n) => new Uint32Array(n));
    this.clientPort = copy(this.clientPort, (n) => new Uint16Array(n));
    this.virtualPort = copy(this.virtualPort, (n) => new Uint16Array(n));
    this.destinationPort = copy(this.destinationPort, (n) => new Uint16Array(n));
    this.capacity = capacity;
  }
}

/** Hex digit value of a char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

const MAX_FIELDS = 64;

/**
 * The parser as a resumable loop, so the server can parse a big table in slices and answer
 * queries in between (parseConnTableAsync). Fields are located by position, and only the
 * addresses and the state are cut out as strings (they are interned); ports and numbers are
 * read from the char codes.
 */
class ConnTableParser {
  private readonly cols: Columns;
  private readonly addressIds = new Map<string, number>();
  private readonly addresses: string[] = [];
  private readonly display: string[] = [];
  private readonly states: string[] = [];
  private readonly stateIds = new Map<string, number>();
  private readonly pe = new Map<number, { name: string; data: string }>();
  private readonly starts = new Int32Array(MAX_FIELDS);
  private readonly ends = new Int32Array(MAX_FIELDS);
  private size = 0;
  private pos = 0;
  private lineNumber = 0;
  private lineStart = 0;
  private lineEnd = 0;
  private sawTitle = false;

  constructor(private readonly text: string) {
    // ~66 bytes per IPv4 line: a first guess that usually avoids growing at all.
    this.cols = new Columns(Math.max(16, Math.ceil(text.length / 60)));
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  /** Parses up to `maxLines` more lines. */
  step(maxLines: number): void {
    const { text } = this;
    for (let n = 0; n < maxLines && this.pos < text.length; n++) {
      let end = text.indexOf("\n", this.pos);
      if (end < 0) end = text.length;
      this.lineNumber++;
      this.lineStart = this.pos;
      this.lineEnd = end;
      this.pos = end + 1;
      const count = this.tokenise();
      if (count === 0) continue;
      if (!this.sawTitle) this.title(count);
      else this.entry(count);
    }
  }

  result(): ConnTable {
    if (!this.sawTitle) throw parseError(SOURCE, 1, "", "the output is empty");
    const { cols, size } = this;
    return {
      size,
      // slice, not subarray: a view would keep the whole grown buffer alive.
      protocol: cols.protocol.slice(0, size),
      state: cols.state.slice(0, size),
      expires: cols.expires.slice(0, size),
      client: cols.client.slice(0, size),
      virtual: cols.virtual.slice(0, size),
      destination: cols.destination.slice(0, size),
      clientPort: cols.clientPort.slice(0, size),
      virtualPort: cols.virtualPort.slice(0, size),
      destinationPort: cols.destinationPort.slice(0, size),
      addresses: this.addresses,
      display: this.display,
      states: this.states,
      pe: this.pe,
    };
  }

  /** Splits the current line on blanks into starts/ends; returns the field count. */
  private tokenise(): number {
    const { text, starts, ends } = this;
    const end = this.lineEnd;
    let count = 0;
    let i = this.lineStart;
    while (i < end) {
      let c = text.charCodeAt(i);
      while (i < end && (c === SPACE || c === TAB || c === CR)) c = text.charCodeAt(++i);
      if (i >= end) break;
      const start = i;
      while (i < end && c !== SPACE && c !== TAB && c !== CR) c = text.charCodeAt(++i);
      if (count === MAX_FIELDS) throw this.fail(`more than ${MAX_FIELDS} fields`);
      starts[count] = start;
      ends[count] = i;
      count++;
    }
    return count;
  }

  private field(k: number): string {
    return this.text.slice(this.starts[k], this.ends[k]);
  }

  private fail(message: string) {
    return parseError(
      SOURCE,
      this.lineNumber,
      this.text.slice(this.lineStart, this.lineEnd),
      message,
    );
  }

  private title(count: number): void {
    // PEName/PEData follow when the kernel knows persistence engines; both forms are fine.
    if (count < TITLE.length || !TITLE.every((t, k) => this.field(k) === t))
      throw this.fail("expected the ip_vs_conn title");
    this.sawTitle = true;
  }

  private entry(count: number): void {
    if (count < 9) throw this.fail("a connection line has at least 9 fields");
    const { cols } = this;
    if (this.size === cols.capacity) cols.grow(cols.capacity * 2);
    const i = this.size;
    cols.protocol[i] = this.protocol();
    cols.client[i] = this.address(1, "FromIP");
    cols.clientPort[i] = this.port(2, "FromIP");
    cols.virtual[i] = this.address(3, "ToIP");
    cols.virtualPort[i] = this.port(4, "ToIP");
    cols.destination[i] = this.address(5, "DestIP");
    cols.destinationPort[i] = this.port(6, "DestIP");
    cols.state[i] = this.state();
    cols.expires[i] = this.seconds();
    if (count > 9) {
      // pe_data is printed as the engine gives it (a SIP Call-ID); keep every word of it.
      const words = Array.from({ length: count - 10 }, (_, k) => this.field(10 + k));
      this.pe.set(i, { name: this.field(9), data: words.join(" ") });
    }
    this.size++;
  }

  private protocol(): number {
    const text = this.field(0);
    const id = (CONNECTION_PROTOCOLS as readonly string[]).indexOf(text);
    if (id < 0) throw this.fail(`unknown protocol ${JSON.stringify(text)}`);
    return id;
  }

  private address(k: number, what: string): number {
    const text = this.field(k);
    const known = this.addressIds.get(text);
    if (known !== undefined) return known;
    const shown = hexAddress(text);
    if (shown === null) throw this.fail(`${what} ${JSON.stringify(text)} is not a hex address`);
    const id = this.addresses.length;
    this.addresses.push(text);
    this.display.push(shown);
    this.addressIds.set(text, id);
    return id;
  }

  private port(k: number, what: string): number {
    const start = this.starts[k] ?? 0;
    let value = 0;
    let ok = (this.ends[k] ?? 0) - start === 4;
    for (let j = 0; ok && j < 4; j++) {
      const d = hexDigit(this.text.charCodeAt(start + j));
      ok = d >= 0;
      value = value * 16 + d;
    }
    if (!ok) throw this.fail(`${what} port ${JSON.stringify(this.field(k))} is not 4 hex digits`);
    return value;
  }

  private state(): number {
    const text = this.field(7);
    const known = this.stateIds.get(text);
    if (known !== undefined) return known;
    if (!/^[A-Z][A-Z0-9_]*$/.test(text))
      throw this.fail(`${JSON.stringify(text)} is not a connection state`);
    if (this.states.length === 256) throw this.fail("more than 256 distinct states");
    const id = this.states.length;
    this.states.push(text);
    this.stateIds.set(text, id);
    return id;
  }

  private seconds(): number {
    const start = this.starts[8] ?? 0;
    const end = this.ends[8] ?? 0;
    let value = 0;
    let ok = end > start && end - start <= 10;
    for (let j = start; ok && j < end; j++) {
      const c = this.text.charCodeAt(j);
      ok = c >= 0x30 && c <= 0x39;
      value = value * 10 + (c - 0x30);
    }
    if (!ok || value > 0xffffffff)
      throw this.fail(`Expires ${JSON.stringify(this.field(8))} is not a number of seconds`);
    return value;
  }
}

/** Parses the whole of /proc/net/ip_vs_conn (title line included). */
export function parseConnTable(text: string): ConnTable {
  const parser = new ConnTableParser(text);
  parser.step(Infinity);
  return parser.result();
}

/**
 * parseConnTable in slices of `sliceLines`, yielding to the event loop between them: 100k
 * lines take ~100 ms, which would otherwise stall every request the server is answering.
 */
export async function parseConnTableAsync(text: string, sliceLines = 10_000): Promise<ConnTable> {
  const parser = new ConnTableParser(text);
  while (!parser.done) {
    parser.step(sliceLines);
    if (!parser.done) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return parser.result();
}

/** Entry `i` as the model's ConnectionEntry (for the one page a browser asks for). */
export function connTableEntry(table: ConnTable, i: number): ConnectionEntry {
  const clientPort = table.clientPort[i] ?? 0;
  return {
    protocol: CONNECTION_PROTOCOLS[table.protocol[i] ?? 0] as ConnectionProtocol,
    expiresSeconds: table.expires[i] ?? 0,
    state: table.states[table.state[i] ?? 0] ?? "",
    client: { address: table.display[table.client[i] ?? 0] ?? "", port: clientPort },
    virtual: {
      address: table.display[table.virtual[i] ?? 0] ?? "",
      port: table.virtualPort[i] ?? 0,
    },
    destination: {
      address: table.display[table.destination[i] ?? 0] ?? "",
      port: table.destinationPort[i] ?? 0,
    },
    template: clientPort === 0,
    pe: table.pe.get(i) ?? null,
  };
}

/** Bytes held by the columns (the interned strings come on top, a few per distinct address). */
export function connTableBytes(table: ConnTable): number {
  return (
    table.protocol.byteLength +
    table.state.byteLength +
    table.expires.byteLength +
    table.client.byteLength +
    table.virtual.byteLength +
    table.destination.byteLength +
    table.clientPort.byteLength +
    table.virtualPort.byteLength +
    table.destinationPort.byteLength
  );
}
