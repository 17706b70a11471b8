/** What bench:fleet measured, and its report against the targets. */
import { loadavg } from "node:os";

const log = (line: string) => console.log(line);
const r0 = (x: number | null) => (x === null ? "n/a" : x.toFixed(0));
const r2 = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));

export interface Result {
  directors: number;
  intervalMs: number;
  seconds: number;
  cpuCores: number | null;
  rssMb: number | null;
  pollLatenessP50Ms: number | null;
  pollLatenessP99Ms: number | null;
  pollDurationP50Ms: number | null;
  pollDurationP99Ms: number | null;
  /** The console's event-loop delay p99 over the measured minute (prom-client's monitor). */
  eventLoopLagP99Ms: number | null;
  /** The whole host's busy CPU (cores), and how much of it the simulated directors took. */
  hostCpuCores: number | null;
  /**
   * The console's main thread (its event loop): the share of the minute it ran, and the
   * share it was runnable but waited for a core (the scheduler's schedstat); the share of
   * once-a-second samples that found it in disk wait (state D).
   */
  mainThreadRunShare: number | null;
  mainThreadWaitShare: number | null;
  diskWaitShare: number | null;
  simCpuCores: number | null;
  pushLatencyP50Ms: number | null;
  pushLatencyP99Ms: number | null;
  /** A push's size (the SSE message's data, kilo-characters), p50. */
  pushKbP50: number | null;
  pushMainThreadP50Ms: number | null;
  pushMainThreadP99Ms: number | null;
  /** The same tasks' thread (CPU) time: the work, without the waits for a core. */
  pushMainThreadCpuP50Ms: number | null;
  pushMainThreadCpuP99Ms: number | null;
  /** Each push's longest main-thread task: what holds a frame back (the others are short). */
  pushLongestTaskP99Ms: number | null;
  mainThreadBusyShare: number | null;
  pushes: number;
  sshConnections: number | null;
  liveDirectors: number | null;
  secondsToAllLive: number | null;
  loadAverage: number[];
  /**
   * The slowest /metrics scrape while measuring, and the slowest /healthz asked beside one
   * (ms); the start's (first polls, every SSH handshake at once) are in startMetricsMaxMs.
   */
  metricsScrapeMaxMs: number | null;
  healthzMaxMs: number | null;
  startMetricsMaxMs: number | null;
  startHealthzMaxMs: number | null;
  error?: string;
}

export function emptyResult(directors: number, intervalMs: number, seconds: number): Result {
  return {
    directors,
    intervalMs,
    seconds,
    cpuCores: null,
    rssMb: null,
    pollLatenessP50Ms: null,
    pollLatenessP99Ms: null,
    pollDurationP50Ms: null,
    pollDurationP99Ms: null,
    eventLoopLagP99Ms: null,
    hostCpuCores: null,
    mainThreadRunShare: null,
    mainThreadWaitShare: null,
    diskWaitShare: null,
    simCpuCores: null,
    pushLatencyP50Ms: null,
    pushLatencyP99Ms: null,
    pushKbP50: null,
    pushMainThreadP50Ms: null,
    pushMainThreadP99Ms: null,
    pushMainThreadCpuP50Ms: null,
    pushMainThreadCpuP99Ms: null,
    pushLongestTaskP99Ms: null,
    mainThreadBusyShare: null,
    pushes: 0,
    sshConnections: null,
    liveDirectors: null,
    secondsToAllLive: null,
    loadAverage: loadavg(),
    metricsScrapeMaxMs: null,
    healthzMaxMs: null,
    startMetricsMaxMs: null,
    startHealthzMaxMs: null,
  };
}

export function report(r: Result): void {
  const row = (what: string, value: string, target: string, met: boolean | null) =>
    log(
      `  ${what.padEnd(34)} ${value.padStart(10)}   target ${target.padEnd(12)} ${met === null ? "" : met ? "met" : "NOT met"}`,
    );
  log(
    `\nresults (${r.directors} directors, ${r.intervalMs} ms, ${r.seconds} s; load average at start ${r.loadAverage.map((x) => x.toFixed(1)).join(" ")})`,
  );
  const lt = (x: number | null, t: number) => (x === null ? null : x < t);
  row("console CPU (cores)", r2(r.cpuCores), "< 1", lt(r.cpuCores, 1));
  row("console RSS (MB, max)", r0(r.rssMb), "< 1024", lt(r.rssMb, 1024));
  row("poll lateness p50 (ms)", r0(r.pollLatenessP50Ms), "", null);
  row("poll lateness p99 (ms)", r0(r.pollLatenessP99Ms), "< 1000", lt(r.pollLatenessP99Ms, 1000));
  row("poll duration p50 (ms)", r0(r.pollDurationP50Ms), "", null);
  row("poll duration p99 (ms)", r0(r.pollDurationP99Ms), `< ${r.intervalMs}`, null);
  row("console event-loop lag p99 (ms)", r0(r.eventLoopLagP99Ms), "", null);
  row("  its main thread ran (share)", r2(r.mainThreadRunShare), "", null);
  row("  waited for a core (share)", r2(r.mainThreadWaitShare), "", null);
  row("  seen in disk wait (share)", r2(r.diskWaitShare), "", null);
  row("slowest /metrics scrape (ms)", r0(r.metricsScrapeMaxMs), "", null);
  row("  slowest /healthz asked beside one", r0(r.healthzMaxMs), "", null);
  row(
    "  the same while starting (ms)",
    `${r0(r.startMetricsMaxMs)} ${r0(r.startHealthzMaxMs)}`,
    "",
    null,
  );
  row("host CPU busy (cores of 2)", r2(r.hostCpuCores), "", null);
  row("  of it the simulated directors", r2(r.simCpuCores), "", null);
  row("SSE push latency p50 (ms)", r0(r.pushLatencyP50Ms), "", null);
  row("SSE push latency p99 (ms)", r0(r.pushLatencyP99Ms), "", null);
  row("push size p50 (kB)", r0(r.pushKbP50), "", null);
  row("main thread per push p50 (ms)", r2(r.pushMainThreadP50Ms), "", null);
  // The page target: a push's main-thread work within a frame.
  const frame = (what: string, x: number | null) => row(what, r2(x), "< 16", lt(x, 16));
  frame("main thread per push p99 (ms)", r.pushMainThreadP99Ms);
  row("  its longest task p99 (ms)", r2(r.pushLongestTaskP99Ms), "", null);
  row("  its CPU time p50 (ms)", r2(r.pushMainThreadCpuP50Ms), "", null);
  frame("  its CPU time p99 (ms)", r.pushMainThreadCpuP99Ms);
  row("main thread busy share", r2(r.mainThreadBusyShare), "", null);
  row("pushes measured", String(r.pushes), "", null);
  row(
    "SSH connections held (median)",
    r0(r.sshConnections),
    `= ${r.directors}`,
    r.sshConnections === null ? null : r.sshConnections <= r.directors,
  );
  row(
    "directors live at the end",
    r0(r.liveDirectors),
    `= ${r.directors}`,
    r.liveDirectors === null ? null : r.liveDirectors === r.directors,
  );
  if (r.error) log(`  FAILED: ${r.error}`);
}
