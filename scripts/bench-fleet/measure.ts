/**
 * What bench:fleet reads while it runs: the console's process tree (CPU, RSS) from /proc,
 * SSH connections held from /proc/net/tcp, poll lateness from /metrics, and the main
 * thread's work per push from a Chromium trace.
 */
import { readFileSync, readdirSync } from "node:fs";

const CLK_TCK = 100;

/** utime + stime (seconds) and RSS (MB) summed over every process of a process group. */
export function groupUsage(pgid: number): { cpuSeconds: number; rssMb: number } {
  let ticks = 0;
  let rssPages = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone
    }
    // Fields after the command (which may hold spaces) in parentheses.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]);
    rssPages += Number(f[21]);
  }
  return { cpuSeconds: ticks / CLK_TCK, rssMb: (rssPages * 4096) / 1024 / 1024 };
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

/** A histogram's cumulative buckets from a Prometheus text scrape: le -> count. */
export function histogram(text: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, "gm");
  for (const m of text.matchAll(re))
    buckets.set(m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2]));
  return buckets;
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
  pid: number;
  tid: number;
  args?: { name?: string };
}

/**
 * Main-thread work per push (ms): the renderer main thread's top-level tasks, each given
 * to the last push mark (performance.mark(markName)) at or before its end; tasks before the
 * first mark are left out. Also the busy share of the main thread over the trace.
 */
export function workPerPush(
  traceJson: string,
  markName: string,
): { perPush: number[]; busyShare: number | null } {
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const marks = events.filter((e) => e.name === markName).sort((a, b) => a.ts - b.ts);
  const first = marks[0];
  if (!first) return { perPush: [], busyShare: null };
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
  let busy = 0;
  let m = 0;
  for (const t of tasks) {
    const end = t.ts + (t.dur ?? 0);
    while (m + 1 < marks.length && (marks[m + 1]?.ts ?? Infinity) <= end) m++;
    if ((marks[0]?.ts ?? Infinity) > end) continue;
    perPush[m] = (perPush[m] ?? 0) + (t.dur ?? 0) / 1000;
    busy += t.dur ?? 0;
  }
  const span = (marks[marks.length - 1]?.ts ?? first.ts) - first.ts;
  return { perPush, busyShare: span > 0 ? busy / span : null };
}

export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? null;
}
