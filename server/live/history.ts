/**
 * History of rates and connection counts, kept in SQLite so charts survive a reload and a
 * restart. Two resolutions, each bounded by age (never by hope):
 * - "fine": one row per poll (the poll interval) per director, service and realserver,
 *   kept for FINE_KEEP_MS (1 h);
 * - "coarse": one row per COARSE_STEP_MS (1 min), the average of that minute's fine rows
 *   (connection counts: their maximum, so a short burst still shows), kept COARSE_KEEP_MS (1 d).
 * The row for a service has realserver ""; the row for the director as a whole has
 * service "" and realserver "". The console writes once a second (HistoryStore.flush): the
 * polls, the coarse rows of the minutes that ended (summed in memory), and pruning; after a
 * restart the first minute is folded from the table instead, idempotently, so a restart
 * just carries on. Sizes: docs/metrics.md.
 */
import { formatEndpoint, formatServiceKey, type Rates } from "@/server/ipvs/model";
import type { DirectorSnapshot } from "@/server/live/types";
import type { Db } from "@/server/db";
import { getLog } from "@/server/log";

export const FINE = 0;
export const COARSE = 1;
export type Resolution = typeof FINE | typeof COARSE;

export const FINE_KEEP_MS = 60 * 60_000;
export const COARSE_STEP_MS = 60_000;
export const COARSE_KEEP_MS = 24 * 60 * 60_000;

export interface HistoryPoint {
  at: number;
  cps: number;
  inBps: number;
  outBps: number;
  active: number;
  inactive: number;
  persistent: number;
}

export interface HistoryKey {
  directorId: string;
  /** formatServiceKey form ("TCP 203.0.113.10:80"); "" for the director as a whole. */
  service: string;
  /** formatEndpoint form ("10.10.0.11:80"); "" for the service as a whole. */
  realserver: string;
}

interface Row extends HistoryKey, HistoryPoint {}

const NO_RATES: Rates = { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

/** The rows one snapshot adds; a first poll (no rates yet) adds none. */
export function rowsOf(snapshot: DirectorSnapshot): Row[] {
  const rows: Row[] = [];
  const at = snapshot.takenAt;
  const director = { cps: 0, inBps: 0, outBps: 0, active: 0, inactive: 0, persistent: 0 };
  let rated = false;
  for (const service of snapshot.services) {
    if (!service.rates) continue;
    rated = true;
    const name = formatServiceKey(service.key);
    let active = 0;
    let inactive = 0;
    let persistent = 0;
    for (const rs of service.realservers) {
      const r = rs.rates ?? NO_RATES;
      active += rs.activeConns;
      inactive += rs.inactiveConns;
      persistent += rs.persistentConns ?? 0;
      rows.push({
        directorId: snapshot.directorId,
        service: name,
        realserver: formatEndpoint(rs),
        at,
        cps: r.cps,
        inBps: r.inBps,
        outBps: r.outBps,
        active: rs.activeConns,
        inactive: rs.inactiveConns,
        persistent: rs.persistentConns ?? 0,
      });
    }
    const r = service.rates;
    rows.push({
      directorId: snapshot.directorId,
      service: name,
      realserver: "",
      at,
      cps: r.cps,
      inBps: r.inBps,
      outBps: r.outBps,
      active,
      inactive,
      persistent,
    });
    director.cps += r.cps;
    director.inBps += r.inBps;
    director.outBps += r.outBps;
    director.active += active;
    director.inactive += inactive;
    director.persistent += persistent;
  }
  if (rated)
    rows.push({ directorId: snapshot.directorId, service: "", realserver: "", at, ...director });
  return rows;
}

/** Minutes looked back at each compaction (idempotent: a restart or a pause re-does them). */
const COMPACT_MINUTES = 10;

const POINT_COLUMNS = "at, cps, in_bps AS inBps, out_bps AS outBps, active, inactive, persistent";

const bucketOf = (ms: number) => Math.floor(ms / COARSE_STEP_MS) * COARSE_STEP_MS;

/** A key's running average and maxima over one minute, folded into a coarse row at its end. */
interface Minute {
  key: HistoryKey;
  bucket: number;
  n: number;
  cps: number;
  inBps: number;
  outBps: number;
  active: number;
  inactive: number;
  persistent: number;
}

export interface HistoryStoreOptions {
  /**
   * Gather polls this long and write them in one transaction (0: each poll at once).
   * 500 directors every 2 s are 250 polls and some 6,000 rows a second: one commit, one
   * fsync (synchronous=FULL) per poll blocked the event loop for seconds (bench:fleet).
   * Up to this much history is lost if the console dies; it is charts, not the audit.
   */
  flushMs?: number;
  /** Told how long each write took and how many rows it held (the console logs slow ones). */
  onFlush?: (ms: number, rows: number) => void;
  /** A write by the timer that failed (a write by record or a read throws to its caller). */
  onError?: (e: unknown) => void;
}

export class HistoryStore {
  private readonly insert;
  private readonly compactStmt;
  private readonly pruneStmt;
  private readonly selectStmt;
  private readonly selectDirectorStmt;
  private pending: Row[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The current minute of every key, summed as its polls arrive. */
  private readonly minutes = new Map<string, Minute>();
  /** The newest minute seen; the first one this store saw may hold polls of an earlier run. */
  private lastBucket: number | null = null;
  private firstBucket: number | null = null;
  private readonly flushMs: number;
  private readonly onFlush: ((ms: number, rows: number) => void) | undefined;
  private readonly onError: (e: unknown) => void;
  /** The newest `now` recorded: the clock of minutes and ages. */
  private lastNow = 0;

  constructor(
    private readonly db: Db,
    options: HistoryStoreOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 0;
    this.onFlush = options.onFlush;
    this.onError = options.onError ?? (() => {});
    // Positional: the fleet writes thousands of rows a second, and binding by name (an
    // object per row, its keys looked up) cost a third more than binding in order.
    this.insert = db.prepare(
      `INSERT OR REPLACE INTO history (director_id, service, realserver, resolution, at, cps, in_bps, out_bps, active, inactive, persistent)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.compactStmt = db.prepare(
      `INSERT OR REPLACE INTO history (director_id, service, realserver, resolution, at, cps, in_bps, out_bps, active, inactive, persistent)
       SELECT director_id, service, realserver, ${COARSE}, (at / ${COARSE_STEP_MS}) * ${COARSE_STEP_MS},
              avg(cps), avg(in_bps), avg(out_bps), max(active), max(inactive), max(persistent)
       FROM history WHERE resolution = ${FINE} AND at >= @from AND at < @before
       GROUP BY director_id, service, realserver, at / ${COARSE_STEP_MS}`,
    );
    this.pruneStmt = db.prepare(
      "DELETE FROM history WHERE resolution = @resolution AND at < @before",
    );
    this.selectStmt = db.prepare(
      `SELECT ${POINT_COLUMNS} FROM history
       WHERE director_id = @directorId AND service = @service AND realserver = @realserver
         AND resolution = @resolution AND at >= @since ORDER BY at`,
    );
    this.selectDirectorStmt = db.prepare(
      `SELECT service, realserver, ${POINT_COLUMNS} FROM history
       WHERE director_id = @directorId AND resolution = @resolution AND at >= @since
       ORDER BY service, realserver, at`,
    );
  }

  /**
   * Keeps a snapshot's rows: at once, or with the next flush (options.flushMs). `now` is the
   * clock the minutes and the ages are counted by.
   */
  record(snapshot: DirectorSnapshot, now = snapshot.takenAt): void {
    this.pending.push(...rowsOf(snapshot));
    this.lastNow = Math.max(this.lastNow, now);
    if (this.flushMs <= 0) this.flush();
    else
      this.timer ??= unrefTimer(
        setTimeout(() => {
          try {
            this.flush();
          } catch (e) {
            this.onError(e);
          }
        }, this.flushMs),
      );
  }

  /**
   * Writes what was gathered in one transaction: the fine rows; the coarse rows of the
   * minutes that ended (summed in memory as the polls came, so no query groups a minute
   * of the whole fleet); what is past its age.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.pending;
    this.pending = [];
    const now = this.lastNow;
    if (rows.length === 0 && this.lastBucket === bucketOf(now)) return;
    const started = performance.now();
    this.db.transaction(() => {
      for (const row of rows) {
        this.insertRow(row, FINE);
        this.add(row);
      }
      const bucket = bucketOf(now);
      if (this.lastBucket !== bucket) {
        // The first minute change of this store: fold the last minutes from the table (an
        // earlier run's polls are only there); after that, from memory.
        if (this.firstBucket === null || this.lastBucket === null) this.firstBucket = bucket;
        else if (this.lastBucket === this.firstBucket) this.compact(now);
        this.lastBucket = bucket;
      }
      for (const [k, m] of this.minutes) {
        if (m.bucket >= bucket) continue;
        this.minutes.delete(k);
        if (m.bucket !== this.firstBucket) this.writeMinute(m);
      }
      this.pruneStmt.run({ resolution: FINE, before: now - FINE_KEEP_MS });
      this.pruneStmt.run({ resolution: COARSE, before: now - COARSE_KEEP_MS });
    })();
    this.onFlush?.(performance.now() - started, rows.length);
  }

  private add(row: Row): void {
    const bucket = bucketOf(row.at);
    const id = `${row.directorId}\0${row.service}\0${row.realserver}`;
    let m = this.minutes.get(id);
    if (m && m.bucket !== bucket) {
      this.minutes.delete(id);
      if (m.bucket !== this.firstBucket && m.bucket < bucket) this.writeMinute(m);
      m = undefined;
    }
    if (!m) {
      const key = { directorId: row.directorId, service: row.service, realserver: row.realserver };
      m = { key, bucket, n: 0, cps: 0, inBps: 0, outBps: 0, active: 0, inactive: 0, persistent: 0 };
      this.minutes.set(id, m);
    }
    m.n++;
    m.cps += row.cps;
    m.inBps += row.inBps;
    m.outBps += row.outBps;
    m.active = Math.max(m.active, row.active);
    m.inactive = Math.max(m.inactive, row.inactive);
    m.persistent = Math.max(m.persistent, row.persistent);
  }

  private insertRow(row: Row, resolution: Resolution): void {
    this.insert.run(
      row.directorId,
      row.service,
      row.realserver,
      resolution,
      row.at,
      row.cps,
      row.inBps,
      row.outBps,
      row.active,
      row.inactive,
      row.persistent,
    );
  }

  private writeMinute(m: Minute): void {
    this.insertRow(
      {
        ...m.key,
        at: m.bucket,
        cps: m.cps / m.n,
        inBps: m.inBps / m.n,
        outBps: m.outBps / m.n,
        active: m.active,
        inactive: m.inactive,
        persistent: m.persistent,
      },
      COARSE,
    );
  }

  /**
   * Folds the finished minutes into coarse rows from the table (after a restart: the
   * minutes an earlier run polled). Only minutes whose fine rows are all still there (the
   * last COMPACT_MINUTES): a minute half-pruned would overwrite its coarse row with a
   * partial average.
   */
  compact(now: number): void {
    const before = bucketOf(now);
    const from = Math.max(
      before - COMPACT_MINUTES * COARSE_STEP_MS,
      bucketOf(now - FINE_KEEP_MS) + COARSE_STEP_MS,
    );
    this.compactStmt.run({ from, before });
  }

  read(key: HistoryKey, resolution: Resolution, since: number): HistoryPoint[] {
    this.flush();
    return this.selectStmt.all({ ...key, resolution, since }) as HistoryPoint[];
  }

  /** Every series of a director since `since`: the director, its services, their realservers. */
  readDirector(
    directorId: string,
    resolution: Resolution,
    since: number,
  ): Array<Omit<HistoryKey, "directorId"> & { points: HistoryPoint[] }> {
    this.flush();
    const rows = this.selectDirectorStmt.all({ directorId, resolution, since }) as Array<
      Omit<HistoryKey, "directorId"> & HistoryPoint
    >;
    const out: Array<Omit<HistoryKey, "directorId"> & { points: HistoryPoint[] }> = [];
    for (const { service, realserver, ...point } of rows) {
      const last = out[out.length - 1];
      if (last && last.service === service && last.realserver === realserver)
        last.points.push(point);
      else out.push({ service, realserver, points: [point] });
    }
    return out;
  }

  /**
   * One series from FINE rows where they reach (the last hour) and COARSE rows before that,
   * so a chart of a longer span (a drain started 3 h ago) still starts where it began.
   */
  readSpan(key: HistoryKey, since: number, now: number): HistoryPoint[] {
    const fineFrom = now - FINE_KEEP_MS;
    if (since >= fineFrom) return this.read(key, FINE, since);
    const fine = this.read(key, FINE, since);
    const firstFine = fine[0]?.at ?? now;
    const coarse = this.read(key, COARSE, since).filter((p) => p.at + COARSE_STEP_MS <= firstFine);
    return [...coarse, ...fine];
  }
}

/** The console's polls are written to the history once a second (HistoryStoreOptions). */
const HISTORY_FLUSH_MS = 1000;
/** A write that blocks the event loop this long is logged: every poller waits behind it. */
const SLOW_FLUSH_MS = 250;

function unrefTimer<T>(timer: T): T {
  // A pending write never keeps the process alive (nor a test's worker).
  if (typeof timer === "object" && timer !== null && "unref" in timer)
    (timer as { unref(): void }).unref();
  return timer;
}

const globalForHistory = globalThis as typeof globalThis & { __lvsConsoleHistory?: HistoryStore };

/** The process's history store, on the console's database. */
export function getHistoryStore(db: Db): HistoryStore {
  if (!globalForHistory.__lvsConsoleHistory) {
    const store = new HistoryStore(db, {
      flushMs: HISTORY_FLUSH_MS,
      onFlush: (ms, rows) => {
        if (ms >= SLOW_FLUSH_MS)
          getLog().warn(
            { event: "history.write_slow", ms: Math.round(ms), rows },
            "writing the polls' history held the console up",
          );
      },
      onError: (e) =>
        getLog().warn(
          { event: "history.write_failed", err: e },
          "could not keep the polls' history",
        ),
    });
    // A stop (SIGTERM: Next exits the process) writes the last second's polls too.
    process.once("exit", () => {
      try {
        store.flush();
      } catch {
        // the database is gone with the process: nothing to tell
      }
    });
    globalForHistory.__lvsConsoleHistory = store;
  }

  return globalForHistory.__lvsConsoleHistory;
}
