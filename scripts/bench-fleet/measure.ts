/**
 * What bench:fleet reads while it runs: the console's process tree (CPU, RSS) from /proc,
 * SSH connections held from /proc/net/tcp, poll lateness from /metrics, and the main
 * thread's work per push from a Chromium trace.
 */
import { readFileSync, readdirSync } from "node:fs";

const CLK_TCK = 100;

/**
 * Every process's /proc/<pid>/stat fields after the command (which may hold spaces, in
 * parentheses): [0] state, [1] ppid, [2] pgrp, [11] utime, [12] stime, [13] cutime,
 * [14] cstime, [21] rss pages. A process gone while reading is left out.
 */
function procStats(): Array<{ pid: number; f: string[] }> {
  const out: Array<{ pid: number; f: string[] }> = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone
    }
    out.push({ pid: Number(name), f: stat.slice(stat.lastIndexOf(")") + 2).split(" ") });
  }
  return out;
}

/** utime + stime (seconds) and RSS (MB) summed over every process of a process group. */
export function groupUsage(pgid: number): { cpuSeconds: number; rssMb: number } {
  let ticks = 0;
  let rssPages = 0;
  for (const { f } of procStats()) {
    if (Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]);
    rssPages += Number(f[21]);
  }
  return { cpuSeconds: ticks / CLK_TCK, rssMb: (rssPages * 4096) / 1024 / 1024 };
}

/**
 * Seconds the main threads of a process group ran, and waited runnable for a core
 * (/proc/<pid>/schedstat: the scheduler's own count), and how many of them are in
 * uninterruptible sleep (state D: disk) right now. An event loop that lags while its
 * process uses little CPU either waits for a core (wait grows) or for the disk (D).
 */
export function groupSched(pgid: number): { runS: number; waitS: number; inDiskWait: number } {
  let run = 0;
  let wait = 0;
  let inDiskWait = 0;
  for (const { pid, f } of procStats()) {
    if (Number(f[2]) !== pgid) continue;
    if (f[0] === "D") inDiskWait++;
    try {
      const [r, w] = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ").map(Number);
      run += r ?? 0;
      wait += w ?? 0;
    } catch {
      // gone
    }
  }
  return { runS: run / 1e9, waitS: wait / 1e9, inDiskWait };
}

/**
 * CPU seconds of some processes and all their descendants, including the ones that have
 * exited and been reaped (cutime, cstime): the simulated directors' sshds, whose sessions
 * call setsid and fork a shell and a command per call.
 */
export function treeCpuSeconds(roots: readonly number[]): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const { pid, f } of procStats()) {
    parent.set(pid, Number(f[1]));
    ticks.set(pid, Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++)
      if (roots.includes(p)) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, t] of ticks) if (inTree(pid)) sum += t;
  return sum / CLK_TCK;
}

/** Established TCP connections from this host to a port in [from, to] (the console's SSH). */
export function sshConnections(from: number, to: number): number {
  let n = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const remote = cols[2]?.split(":")[1];
      if (!remote || cols[3] !== "01") continue;
      const port = parseInt(remote, 16);
      if (port >= from && port <= to) n++;
    }
  }
  return n;
}

/**
 * A histogram's cumulative buckets from a Prometheus text scrape: le -> count, summed over
 * every label set (the per-director poll durations add up to the fleet's).
 */
export function histogram(text: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\d+)`, "gm");
  for (const m of text.matchAll(re)) {
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/** An unlabelled gauge's value from a Prometheus text scrape, or null. */
/** Directors whose lvs_director_up is 1 in a /metrics scrape. */
export function upDirectors(text: string): number {
  return text.split("\n").filter((l) => l.startsWith("lvs_director_up{") && l.endsWith(" 1"))
    .length;
}

export function gauge(text: string, name: string): number | null {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
}

/** CPU time (seconds) of the whole host so far: busy and total, all cores (/proc/stat). */
export function hostCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** The observations between two scrapes per bucket, "<=0.05: 120, <=0.1: 3, ..." (non-empty ones). */
export function bucketCounts(before: Map<number, number>, after: Map<number, number>): string {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  let below = 0;
  let lower = 0;
  const parts: string[] = [];
  for (const b of bounds) {
    const cumulative = (after.get(b) ?? 0) - (before.get(b) ?? 0);
    if (cumulative > below)
      parts.push(`${b === Infinity ? `>${lower}` : `<=${b}`}: ${cumulative - below}`);
    below = cumulative;
    lower = b;
  }
  return parts.join(", ") || "none";
}

/** The q-quantile (ms) of the observations between two scrapes, interpolated in its bucket. */
export function quantileBetween(
  before: Map<number, number>,
  after: Map<number, number>,
  q: number,
): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  for (let i = 0; i < bounds.length; i++) {
    const bound = bounds[i] ?? Infinity;
    const count = counts[i] ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return lower * 1000;
      const prev = i > 0 ? (counts[i - 1] ?? 0) : 0;
      const inBucket = count - prev;
      const frac = inBucket > 0 ? (rank - prev) / inBucket : 1;
      return (lower + (bound - lower) * frac) * 1000;
    }
    lower = bound;
  }
  return null;
}

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time of an "X" event, µs: what the thread itself spent, not waiting for a core. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/**
 * Main-thread work per push (ms): the renderer main thread's top-level tasks, each given
 * to the last push mark (performance.mark(markName)) at or before its end; tasks before the
 * first mark are left out. Also each push's longest task (what blocks a frame: a page that
 * spreads its work over short tasks stays responsive) and the main thread's busy share.
 * `perPush` is wall time: on a host whose cores are all busy it includes the time a task
 * waited for a core. `cpuPerPush` is the same tasks' thread time (the trace's tdur), the
 * work itself; null when the trace has no thread times.
 */
export function workPerPush(
  traceJson: string,
  markName: string,
): {
  perPush: number[];
  cpuPerPush: number[] | null;
  longestPerPush: number[];
  busyShare: number | null;
} {
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const marks = events.filter((e) => e.name === markName).sort((a, b) => a.ts - b.ts);
  const first = marks[0];
  if (!first) return { perPush: [], cpuPerPush: null, longestPerPush: [], busyShare: null };
  // The main thread is the one the marks are on.
  const tasks = events
    .filter(
      (e) =>
        e.ph === "X" &&
        e.pid === first.pid &&
        e.tid === first.tid &&
        (e.name === "ThreadControllerImpl::RunTask" || e.name === "RunTask"),
    )
    .sort((a, b) => a.ts - b.ts);
  const perPush = marks.map(() => 0);
  const cpuPerPush = marks.map(() => 0);
  let threadTimes = false;
  const longestPerPush = marks.map(() => 0);
  let busy = 0;
  let m = 0;
  for (const t of tasks) {
    const end = t.ts + (t.dur ?? 0);
    while (m + 1 < marks.length && (marks[m + 1]?.ts ?? Infinity) <= end) m++;
    if ((marks[0]?.ts ?? Infinity) > end) continue;
    perPush[m] = (perPush[m] ?? 0) + (t.dur ?? 0) / 1000;
    if (t.tdur !== undefined) threadTimes = true;
    cpuPerPush[m] = (cpuPerPush[m] ?? 0) + (t.tdur ?? 0) / 1000;
    longestPerPush[m] = Math.max(longestPerPush[m] ?? 0, (t.dur ?? 0) / 1000);
    busy += t.dur ?? 0;
  }
  const span = (marks[marks.length - 1]?.ts ?? first.ts) - first.ts;
  return {
    perPush,
    cpuPerPush: threadTimes ? cpuPerPush : null,
    longestPerPush,
    busyShare: span > 0 ? busy / span : null,
  };
}

/**
 * The renderer main thread's time by trace event name (devtools.timeline: style, layout,
 * paint, script...), nested events counted in each of theirs: where the work per push goes.
 */
export function mainThreadByEvent(traceJson: string, markName: string, top: number): string {
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const mark = events.find((e) => e.name === markName);
  if (!mark) return "  no push marks in the trace";
  const sums = new Map<string, { ms: number; n: number }>();
  for (const e of events) {
    if (e.ph !== "X" || e.pid !== mark.pid || e.tid !== mark.tid) continue;
    const s = sums.get(e.name) ?? { ms: 0, n: 0 };
    s.ms += (e.dur ?? 0) / 1000;
    s.n++;
    sums.set(e.name, s);
  }
  return [
    "  main thread by trace event (ms, count):",
    ...[...sums.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(
        ([name, s]) => `    ${s.ms.toFixed(0).padStart(7)} ms ${String(s.n).padStart(7)}  ${name}`,
      ),
  ].join("\n");
}

export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? null;
}

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  samples?: number[];
  timeDeltas?: number[];
}

/** A CDP CPU profile's `top` functions by self time, one line each ("ms  name  file:line"). */
export function hottestFunctions(
  profile: CpuProfile,
  top: number,
  what = "tab CPU profile",
): string {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const frame = byNode.get(samples[i] ?? -1);
    const us = deltas[i + 1] ?? 0; // a sample's time runs until the next one
    if (!frame) continue;
    total += us;
    const file = frame.url.split("/").pop() ?? "";
    const key = `${frame.functionName || "(anonymous)"}  ${file}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
  }
  const lines = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `    ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  return [`  ${what}: ${(total / 1000).toFixed(0)} ms sampled, by self time:`, ...lines].join("\n");
}

/** How long a server took to answer each request (ms), for the slowest one. */
export class AnswerTimes {
  private readonly times: number[] = [];

  async fetchText(url: string, init?: RequestInit): Promise<string> {
    const t = performance.now();
    const text = await (await fetch(url, init)).text();
    this.times.push(performance.now() - t);
    return text;
  }

  maxMs(): number | null {
    return this.times.length === 0 ? null : Math.max(...this.times);
  }
}

/** A step that may hang (a tab or a browser that stopped answering) fails after `ms`. */
export function within<T>(ms: number, what: string, step: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    step,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
