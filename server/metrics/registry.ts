/**
 * The console's Prometheus metrics, in a prom-client Registry of its own (never the global
 * default, so nothing registered by a library leaks into /metrics).
 *
 * Two kinds of values:
 * - events the console sees as they happen (polls, their duration and error code, sign-ins),
 *   recorded by hooks: the poller's onPoll and the sign-in path call record*();
 * - state read at scrape time (collect-on-scrape) from the sources installed by
 *   server/metrics/sources.ts: the pollers' latest snapshots, the SSH pool, SQLite.
 *
 * This module imports no other layer (only types and the pure IPVS model), so the live and
 * auth layers can record into it without an import cycle. Names and labels: docs/metrics.md.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { formatEndpoint, formatServiceKey, type Counters } from "@/server/ipvs/model";
import type { PollRecord } from "@/server/live/poll-observer";
import type { DirectorStatus } from "@/server/live/types";

/** Realserver label sets per scrape, all directors together; the rest are counted, not shown. */
export const MAX_REALSERVER_SERIES = 5000;

export interface ConsoleCounts {
  drainsByState: Record<string, number>;
  /** Audit rows by action ("change", "drain.start", ...) and result. */
  auditByActionResult: Array<{ action: string; result: string; count: number }>;
}

export interface MetricSources {
  /** The status of every configured director (not polled yet: reachability "connecting"). */
  directors(): DirectorStatus[];
  /** Successful SSH handshakes of a director's pooled connection so far. */
  sshConnects(directorId: string): number;
  /** Counts from SQLite; null when the database cannot be read. */
  console(): ConsoleCounts | null;
}

export type { PollRecord } from "@/server/live/poll-observer";

export type SignInResult = "success" | "failure" | "rate_limited";

const DIRECTOR = ["cluster", "director"] as const;
const SERVICE = ["cluster", "director", "service"] as const;
const REALSERVER = ["cluster", "director", "service", "realserver"] as const;

type CounterField = keyof Counters;
const COUNTER_METRICS: ReadonlyArray<{ field: CounterField; suffix: string; help: string }> = [
  { field: "conns", suffix: "connections_total", help: "connections scheduled" },
  {
    field: "inPackets",
    suffix: "incoming_packets_total",
    help: "packets in (client to realserver)",
  },
  {
    field: "outPackets",
    suffix: "outgoing_packets_total",
    help: "packets out (realserver to client)",
  },
  { field: "inBytes", suffix: "incoming_bytes_total", help: "bytes in (client to realserver)" },
  { field: "outBytes", suffix: "outgoing_bytes_total", help: "bytes out (realserver to client)" },
];

/**
 * prom-client keeps values as JS numbers (a bigint is refused). Number(bigint) rounds to
 * the nearest double, exactly as Prometheus rounds the decimal text when it parses it into
 * its float64 samples: below 2^53 (9 PiB) the value is exact, above it what Prometheus
 * stores is the same either way.
 */
export function counterValue(value: bigint): number {
  return Number(value);
}

export interface ConsoleMetrics {
  registry: Registry;
  /** The text of one scrape, from one view of the directors. */
  scrape(): Promise<string>;
  recordPoll(record: PollRecord): void;
  recordSignIn(result: SignInResult): void;
  /** Where the scrape-time values come from (server/metrics/sources.ts, or a test's fakes). */
  setSources(sources: MetricSources): void;
}

export function createConsoleMetrics(
  sources?: MetricSources,
  maxRealserverSeries = MAX_REALSERVER_SERIES,
): ConsoleMetrics {
  const registry = new Registry();
  let current: MetricSources | undefined = sources;
  const registers = [registry];

  // One view of the directors per scrape: every metric of a scrape agrees with the others.
  let frozen: { statuses: DirectorStatus[]; realservers: RealserverRow[] | null } | null = null;
  const statuses = (): DirectorStatus[] => frozen?.statuses ?? current?.directors() ?? [];

  // --- per director -------------------------------------------------------------------------
  new Gauge({
    name: "lvs_director_up",
    help: "1 when the director's last poll succeeded and its poller runs, else 0",
    labelNames: DIRECTOR,
    registers,
    collect() {
      this.reset();
      for (const s of statuses()) this.set(labelsOf(s), s.reachability === "live" ? 1 : 0);
    },
  });
  new Gauge({
    name: "lvs_director_last_success_timestamp_seconds",
    help: "when the director was last read successfully (unix seconds)",
    labelNames: DIRECTOR,
    registers,
    collect() {
      this.reset();
      for (const s of statuses())
        if (s.lastSuccessAt !== null) this.set(labelsOf(s), s.lastSuccessAt / 1000);
    },
  });
  new Gauge({
    name: "lvs_director_connection_entries",
    help: "entries in the director's IPVS connection table (templates included)",
    labelNames: DIRECTOR,
    registers,
    collect() {
      this.reset();
      for (const s of statuses()) if (s.snapshot) this.set(labelsOf(s), s.snapshot.connectionCount);
    },
  });
  new Gauge({
    name: "lvs_director_vrrp_master",
    help: "1 when keepalived's VRRP dump says every instance of the director is MASTER, 0 when BACKUP, FAULT or mixed; absent where no VRRP state is read",
    labelNames: DIRECTOR,
    registers,
    collect() {
      this.reset();
      for (const s of statuses()) {
        const role = s.snapshot?.owner?.role ?? null;
        if (role !== null) this.set(labelsOf(s), role === "MASTER" ? 1 : 0);
      }
    },
  });
  const lastPoll = new Gauge({
    name: "lvs_director_last_poll_timestamp_seconds",
    help: "when the director's last poll (good or failed) finished (unix seconds)",
    labelNames: DIRECTOR,
    registers,
  });
  const pollDuration = new Histogram({
    name: "lvs_director_poll_duration_seconds",
    help: "time one poll of the director took (one SSH round trip and the parse)",
    labelNames: DIRECTOR,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  // One series for the whole console: with hundreds of directors the interval is kept or
  // not by the one process, and per-director buckets would multiply the scrape.
  const pollLateness = new Histogram({
    name: "lvs_poll_lateness_seconds",
    help: "how late each poll started against the poll interval (start to start), all directors",
    // Fine around the 1 s that matters and up to 30 s: a fleet that cannot keep its interval
    // shows how far behind it is, not just "over 5 s".
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
    registers,
  });
  const pollErrors = new Counter({
    name: "lvs_director_poll_errors_total",
    help: "failed polls of the director, by error code",
    labelNames: [...DIRECTOR, "code"],
    registers,
  });
  const handshakes = new Map<string, { seen: number; total: number }>();
  new Counter({
    name: "lvs_director_ssh_reconnects_total",
    help: "SSH connections to the director opened after the first one",
    labelNames: DIRECTOR,
    registers,
    collect() {
      this.reset();
      for (const s of statuses()) {
        const connects = current?.sshConnects(s.directorId) ?? 0;
        const h = handshakes.get(s.directorId) ?? { seen: 0, total: 0 };
        // A closed pool entry starts again from 0: its handshakes are all new ones.
        h.total += connects >= h.seen ? connects - h.seen : connects;
        h.seen = connects;
        handshakes.set(s.directorId, h);
        this.inc(labelsOf(s), Math.max(0, h.total - 1));
      }
    },
  });

  // --- per virtual service and realserver ---------------------------------------------------
  let omitted = 0;
  const rsGauge = (name: string, help: string, value: (rs: RealserverLike) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: REALSERVER,
      registers,
      collect() {
        this.reset();
        for (const { labels, rs } of realservers(statuses())) {
          const v = value(rs);
          if (v !== null) this.set(labels, v);
        }
      },
    });
  const realservers = (list: DirectorStatus[]): RealserverRow[] => {
    if (frozen?.realservers) return frozen.realservers;
    const out: RealserverRow[] = [];
    let skipped = 0;
    for (const s of list) {
      for (const service of s.snapshot?.services ?? []) {
        for (const rs of service.realservers) {
          if (out.length >= maxRealserverSeries) {
            skipped++;
            continue;
          }
          out.push({
            labels: {
              ...labelsOf(s),
              service: formatServiceKey(service.key),
              realserver: formatEndpoint(rs),
            },
            rs,
          });
        }
      }
    }
    omitted = skipped;
    if (frozen) frozen.realservers = out;
    return out;
  };
  rsGauge("lvs_realserver_weight", "the realserver's weight in the service", (rs) => rs.weight);
  rsGauge("lvs_realserver_active_connections", "ActiveConn", (rs) => rs.activeConns);
  rsGauge("lvs_realserver_inactive_connections", "InActConn", (rs) => rs.inactiveConns);
  rsGauge(
    "lvs_realserver_persistent_connections",
    "PersistConn: persistence templates pointing at the realserver",
    (rs) => rs.persistentConns,
  );
  for (const m of COUNTER_METRICS) {
    new Counter({
      name: `lvs_realserver_${m.suffix}`,
      help: `${m.help}, as the kernel counts them for the realserver (ipvsadm --exact --stats)`,
      labelNames: REALSERVER,
      registers,
      collect() {
        this.reset();
        for (const { labels, rs } of realservers(statuses()))
          if (rs.counters) this.inc(labels, counterValue(rs.counters[m.field]));
      },
    });
    new Counter({
      name: `lvs_service_${m.suffix}`,
      help: `${m.help}, as the kernel counts them for the virtual service`,
      labelNames: SERVICE,
      registers,
      collect() {
        this.reset();
        for (const s of statuses())
          for (const service of s.snapshot?.services ?? [])
            if (service.counters)
              this.inc(
                { ...labelsOf(s), service: formatServiceKey(service.key) },
                counterValue(service.counters[m.field]),
              );
      },
    });
  }
  const serviceSum = (name: string, help: string, value: (rs: RealserverLike) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: SERVICE,
      registers,
      collect() {
        this.reset();
        for (const s of statuses())
          for (const service of s.snapshot?.services ?? []) {
            const values = service.realservers.map(value);
            if (values.some((v) => v === null)) continue;
            const sum = values.reduce<number>((a, v) => a + (v ?? 0), 0);
            this.set({ ...labelsOf(s), service: formatServiceKey(service.key) }, sum);
          }
      },
    });
  serviceSum(
    "lvs_service_active_connections",
    "ActiveConn of all its realservers",
    (rs) => rs.activeConns,
  );
  serviceSum(
    "lvs_service_inactive_connections",
    "InActConn of all its realservers",
    (rs) => rs.inactiveConns,
  );
  serviceSum(
    "lvs_service_persistent_connections",
    "PersistConn of all its realservers",
    (rs) => rs.persistentConns,
  );
  serviceSum("lvs_service_realservers", "realservers in the service", () => 1);
  new Gauge({
    name: "lvs_metrics_realservers_omitted",
    help: `realserver label sets left out of this scrape (more than ${maxRealserverSeries})`,
    registers,
    collect() {
      realservers(statuses());
      this.set(omitted);
    },
  });

  // --- the console --------------------------------------------------------------------------
  const consoleGauge = (
    name: string,
    help: string,
    labelNames: readonly string[],
    rows: (c: ConsoleCounts) => Array<[Record<string, string>, number]>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        const counts = current?.console();
        if (!counts) return;
        for (const [labels, value] of rows(counts)) this.set(labels, value);
      },
    });
  consoleGauge("lvs_console_drains", "drains on record, by state", ["state"], (c) =>
    Object.entries(c.drainsByState).map(([state, n]) => [{ state }, n]),
  );
  consoleGauge(
    "lvs_console_changes",
    "audited changes (action change), by result",
    ["result"],
    (c) =>
      c.auditByActionResult
        .filter((r) => r.action === "change")
        .map((r) => [{ result: r.result }, r.count]),
  );
  consoleGauge(
    "lvs_console_audit_entries",
    "audit log rows, by action and result",
    ["action", "result"],
    (c) => c.auditByActionResult.map((r) => [{ action: r.action, result: r.result }, r.count]),
  );
  consoleGauge(
    "lvs_console_audit_pending",
    "audit rows still pending (a change in flight, or one that died)",
    [],
    (c) => [
      [
        {},
        c.auditByActionResult
          .filter((r) => r.result === "pending")
          .reduce((a, r) => a + r.count, 0),
      ],
    ],
  );
  const signIns = new Counter({
    name: "lvs_console_sign_ins_total",
    help: "password sign-ins since the console started, by result",
    labelNames: ["result"],
    registers,
  });
  for (const result of ["success", "failure", "rate_limited"] as const) signIns.inc({ result }, 0);

  let inFlight: Promise<string> | null = null;
  /**
   * registry.metrics(), one metric per turn of the event loop: at 500 directors a scrape
   * is 85,000 lines (9.7 MB) and 340 ms of CPU, which in one go held every poll and request
   * behind it (a /healthz asked beside a scrape took as long as the scrape). The text is
   * the same (prom-client's text format, metrics joined by a blank line).
   */
  const scrapeInTurns = async (): Promise<string> => {
    frozen = { statuses: current?.directors() ?? [], realservers: null };
    try {
      const parts: string[] = [];
      for (const metric of registry.getMetricsAsArray()) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        parts.push(await registry.getSingleMetricAsString(metric.name));
      }
      return `${parts.join("\n\n")}\n`;
    } finally {
      frozen = null;
    }
  };

  return {
    registry,
    scrape() {
      // Scrapes asked for while one runs get its text: one view, and one scrape's work.
      inFlight ??= scrapeInTurns().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    recordPoll(record) {
      const labels = { cluster: record.clusterId, director: record.directorId };
      lastPoll.set(labels, record.at / 1000);
      pollDuration.observe(labels, record.durationMs / 1000);
      if (record.lateMs !== null) pollLateness.observe(record.lateMs / 1000);
      if (record.error) pollErrors.inc({ ...labels, code: record.error });
    },
    recordSignIn(result) {
      signIns.inc({ result });
    },
    setSources(next) {
      current = next;
    },
  };
}

interface RealserverRow {
  labels: Record<(typeof REALSERVER)[number], string>;
  rs: RealserverLike;
}

type RealserverLike = NonNullable<
  DirectorStatus["snapshot"]
>["services"][number]["realservers"][number];

function labelsOf(s: Pick<DirectorStatus, "clusterId" | "directorId">) {
  return { cluster: s.clusterId, director: s.directorId };
}

const globalForMetrics = globalThis as typeof globalThis & { __lvsConsoleMetrics?: ConsoleMetrics };

/** The process's metrics (cached on globalThis so dev reloads keep the counts). */
export function getConsoleMetrics(): ConsoleMetrics {
  if (!globalForMetrics.__lvsConsoleMetrics) {
    const metrics = createConsoleMetrics();
    // The process's own figures (CPU, memory, event-loop lag, GC), prom-client's standard
    // set: whether a late poll is the console's event loop or a slow director shows here.
    // Only for the process's registry: tests create registries of their own by the dozen.
    collectDefaultMetrics({ register: metrics.registry });
    globalForMetrics.__lvsConsoleMetrics = metrics;
  }
  return globalForMetrics.__lvsConsoleMetrics;
}
