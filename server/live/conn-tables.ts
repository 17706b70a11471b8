/**
 * The connection table of every director someone is looking at, read in the background
 * and shared by every viewer; filters and pages are answered from the last read.
 *
 * Why not read per query: the kernel's /proc/net/ip_vs_conn is quadratic to read. Each
 * read() returns one page (~55 entries) and starts by walking the hash table from bucket 0
 * up to its position (ip_vs_conn_array), so 100k entries cost ~1,800 walks of up to 100k
 * steps: 17 s in the lab guest (ipvsadm -Lnc, which reads the same file through stdio,
 * took 80 s). A filter must never wait for that.
 *
 * So reads are paced by their own cost: the next read starts at least `costFactor` times
 * the last read's duration later (never sooner than the poll interval), which keeps the
 * director's CPU spent on reading the table at or below 1 / costFactor. Reads stop when
 * nobody asked for `leaseMs`. "Read now" keeps that pacing: it joins the running read, or
 * answers with the last one until the paced gap since it has passed. A paused viewer pins
 * the read it shows, so its pages keep coming from that read while newer ones arrive for
 * everybody else; each pinned read is a whole table kept in memory, so a director keeps at
 * most `maxPinnedReads` of them and one user at most `maxPinsPerUser` (RATE_LIMITED past
 * either, saying when a pin lapses).
 *
 * The scheduling is pure (the reader is injected), so it is unit-tested with fake timers.
 */
import type { DirectorConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import type { ConnTable } from "@/server/ipvs/parse/conn-table";

export type ConnTableReader = (director: DirectorConfig, signal: AbortSignal) => Promise<ConnTable>;

export interface ConnTablesOptions {
  read: ConnTableReader;
  /** The shortest gap between two reads (the poll interval). */
  minIntervalMs: number;
  /** The gap is at least this many times the last read's duration. */
  costFactor: number;
  /** The longest gap, and the longest wait after failures. */
  maxIntervalMs: number;
  /** Reads go on while someone asked within this long. */
  leaseMs: number;
  /** A pinned read is kept this long after its last use. */
  pinMs: number;
  /** Reads of one director pinned at once, by everyone. */
  maxPinnedReads: number;
  /** Reads of one director one user may pin at once. */
  maxPinsPerUser: number;
}

export const DEFAULT_CONN_TABLE_OPTIONS: Omit<ConnTablesOptions, "read" | "minIntervalMs"> = {
  costFactor: 4,
  maxIntervalMs: 120_000,
  leaseMs: 20_000,
  pinMs: 10 * 60_000,
  maxPinnedReads: 8,
  maxPinsPerUser: 3,
};

/** One read of the table, with the filter results computed on it (few, kept by recency). */
export interface TableRead {
  id: number;
  /** When the read finished. */
  takenAt: number;
  readMs: number;
  table: ConnTable;
  /** Filter key -> result; the browser asks for several pages of one filter. */
  memo: Map<string, unknown>;
}

export interface TableReadStatus {
  readId: number;
  takenAt: number;
  readMs: number;
  /** When the next read starts; null while one runs or when nobody is watching. */
  nextReadAt: number | null;
  reading: boolean;
  /** The last read failed (the table shown is the one before). */
  error: { code: string; message: string } | null;
}

const MEMO_SIZE = 8;

/** Remembers `compute()` under `key` on this read; at most MEMO_SIZE results. */
export function memoOnRead<T>(read: TableRead, key: string, compute: () => T): T {
  if (read.memo.has(key)) {
    const value = read.memo.get(key) as T;
    read.memo.delete(key);
    read.memo.set(key, value); // most recent last
    return value;
  }
  const value = compute();
  read.memo.set(key, value);
  if (read.memo.size > MEMO_SIZE) {
    const oldest = read.memo.keys().next().value;
    if (oldest !== undefined) read.memo.delete(oldest);
  }
  return value;
}

function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof ConsoleError) return { code: e.code, message: e.message };
  return { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
}

export class DirectorTable {
  private current: TableRead | null = null;
  /** The read before `current`: a viewer who paused just as a new read landed still finds it. */
  private previous: TableRead | null = null;
  /** Pinned reads by id, with who holds each and until when (user name -> epoch ms). */
  private pinned = new Map<number, { read: TableRead; holders: Map<string, number> }>();
  private inFlight: Promise<TableRead> | null = null;
  private abort: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextReadAt: number | null = null;
  private lastAsked = 0;
  private failures = 0;
  /** Why the last read failed (null after a good one). */
  private lastError: Error | null = null;
  private seq = 0;
  /** Set by close(): a read still running then must neither keep its table nor schedule. */
  private closed = false;

  constructor(
    readonly director: DirectorConfig,
    private readonly options: ConnTablesOptions,
  ) {}

  get active(): boolean {
    return this.timer !== null || this.inFlight !== null;
  }

  /**
   * The read to answer from: `readId`'s when given (pinning it for `user`), else the latest.
   * Waits for a read only when there is none yet (the first view, or after nobody watched).
   */
  async get(readId?: number, user = ""): Promise<TableRead> {
    const now = Date.now();
    this.lastAsked = now;
    this.expirePins(now);
    if (readId !== undefined) {
      const found =
        this.pinned.get(readId)?.read ??
        [this.current, this.previous].find((r) => r?.id === readId);
      if (!found) {
        throw new ConsoleError(
          "NOT_FOUND",
          "that read of the connection table is gone: resume to see the current one",
          { directorId: this.director.id, readId },
        );
      }
      this.pin(found, user, now);
      return found;
    }
    if (this.current) return this.current;
    if (this.lastError !== null && !this.inFlight && this.timer) {
      // Failing, and waiting before the next try: say why instead of hammering the director.
      throw this.lastError;
    }
    return this.startRead();
  }

  /**
   * The operator's "Read now": joins the read that runs, or answers with the last one when
   * it is younger than the poll interval, so a button held down cannot keep the director
   * reading.
   */
  refresh(): Promise<TableRead> {
    this.lastAsked = Date.now();
    if (this.inFlight) return this.inFlight;
    const current = this.current;
    if (current && Date.now() - current.takenAt < this.delayAfter(current.readMs)) {
      return Promise.resolve(current);
    }
    return this.startRead();
  }

  /** Pins `read` for `user` (again: its time starts over), within the caps. */
  private pin(read: TableRead, user: string, now: number): void {
    const until = now + this.options.pinMs;
    const pin = this.pinned.get(read.id);
    if (pin?.holders.has(user)) {
      pin.holders.set(user, until);
      return;
    }
    // At the user's cap, a new pause lets go of that user's least recently used pin: a
    // viewer who paused, resumed and paused again has left the older read behind, and a
    // refusal there would lock them out for the pin's lifetime.
    const mine = [...this.pinned.entries()].filter(([, p]) => p.holders.has(user));
    if (mine.length >= this.options.maxPinsPerUser) {
      mine.sort(([, a], [, b]) => (a.holders.get(user) ?? 0) - (b.holders.get(user) ?? 0));
      const [oldestId, oldest] = mine[0]!;
      oldest.holders.delete(user);
      if (oldest.holders.size === 0) this.pinned.delete(oldestId);
    }
    if (!pin && this.pinned.size >= this.options.maxPinnedReads) {
      const lapses = Math.min(
        ...[...this.pinned.values()].map((p) => Math.max(...p.holders.values())),
      );
      throw this.tooManyPins(
        `${this.pinned.size} paused reads of ${this.director.id}'s connection table are held already: resume to see the current one`,
        "pins-per-director",
        lapses - now,
      );
    }
    if (pin) pin.holders.set(user, until);
    else this.pinned.set(read.id, { read, holders: new Map([[user, until]]) });
  }

  private tooManyPins(message: string, reason: "pins-per-director", waitMs: number): ConsoleError {
    return new ConsoleError("RATE_LIMITED", message, {
      directorId: this.director.id,
      reason,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    });
  }

  /**
   * Starts a read (or joins the one running). Not a lease: the scheduled reads call it too,
   * and must not keep themselves going.
   */
  private startRead(): Promise<TableRead> {
    if (this.inFlight) return this.inFlight;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextReadAt = null;
    const controller = new AbortController();
    this.abort = controller;
    const started = performance.now();
    const promise = this.options.read(this.director, controller.signal).then(
      (table) => {
        const read: TableRead = {
          id: ++this.seq,
          takenAt: Date.now(),
          readMs: Math.round(performance.now() - started),
          table,
          memo: new Map(),
        };
        if (this.closed) {
          this.finish(null);
          return read;
        }
        this.previous = this.current;
        this.current = read;
        this.failures = 0;
        this.lastError = null;
        this.finish(this.delayAfter(read.readMs));
        return read;
      },
      (e: unknown) => {
        this.failures++;
        this.lastError = e instanceof Error ? e : new Error(String(e));
        const backoff = this.options.minIntervalMs * 2 ** Math.min(this.failures, 6);
        this.finish(this.closed ? null : Math.min(this.options.maxIntervalMs, backoff));
        throw e;
      },
    );
    this.inFlight = promise;
    // A rejected read is reported to whoever awaits it; nobody else must see it unhandled.
    promise.catch(() => undefined);
    return promise;
  }

  status(read: TableRead): TableReadStatus {
    return {
      readId: read.id,
      takenAt: read.takenAt,
      readMs: read.readMs,
      nextReadAt: this.nextReadAt,
      reading: this.inFlight !== null,
      error: this.lastError === null ? null : errorOf(this.lastError),
    };
  }

  /** Stops reading and forgets every read (config reload, shutdown, tests). */
  close(): void {
    this.closed = true;
    this.abort?.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextReadAt = null;
    this.current = null;
    this.previous = null;
    this.pinned.clear();
  }

  private delayAfter(readMs: number): number {
    const { minIntervalMs, costFactor, maxIntervalMs } = this.options;
    return Math.min(maxIntervalMs, Math.max(minIntervalMs, costFactor * readMs));
  }

  /** A read ended; `delay` null: schedule nothing (closed). */
  private finish(delay: number | null): void {
    this.inFlight = null;
    this.abort = null;
    if (delay !== null) this.schedule(delay);
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    this.nextReadAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextReadAt = null;
      if (Date.now() - this.lastAsked > this.options.leaseMs) {
        // Nobody is looking: stop reading and let the table go (pinned reads stay).
        this.previous = null;
        this.current = null;
        return;
      }
      this.startRead().catch(() => undefined);
    }, delay);
    // Background reads must not keep a process (a test, a script) alive.
    this.timer.unref?.();
  }

  private expirePins(now: number): void {
    for (const [id, pin] of this.pinned) {
      for (const [user, until] of pin.holders) if (until < now) pin.holders.delete(user);
      if (pin.holders.size === 0) this.pinned.delete(id);
    }
  }
}

export class ConnTables {
  private tables = new Map<string, DirectorTable>();

  constructor(private readonly options: () => ConnTablesOptions) {}

  table(director: DirectorConfig): DirectorTable {
    let table = this.tables.get(director.id);
    if (!table || table.director !== director) {
      // A reloaded config brings new director objects: start over with them.
      table?.close();
      table = new DirectorTable(director, this.options());
      this.tables.set(director.id, table);
    }
    return table;
  }

  closeAll(): void {
    for (const table of this.tables.values()) table.close();
    this.tables.clear();
  }
}
