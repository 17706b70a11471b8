/**
 * npm run bench:fleet -- --directors N [--seconds S] [--interval MS] [--json]
 *
 * One console against N simulated directors (scripts/bench-fleet/sim.ts: real OpenSSH
 * sshd on loopback, the console's real scripts answered with output captured from the lab,
 * counters moving), the fleet page open in Chromium. Once every director is live, it
 * measures for S seconds (default 60): the console's CPU (cores) and RSS (its process
 * group), poll lateness against the interval (p50/p99, /metrics), the SSE push latency to
 * the tab (tab receipt - the push's `at`), the main thread's work per push (a Chromium
 * trace), and the SSH connections held. Needs a production build (`npx next build`).
 *
 * Never crashes: a failed step is reported and the JSON line still printed (with `error`).
 * Env: BENCH_PORT (console, default 3103), BENCH_FLEET_SSH_PORT (first sshd port, default
 * 40000; one sshd per 10 directors), CHROMIUM_PATH.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { stringify } from "yaml";
import { ensureDemoAdmin } from "@/server/auth/users";
import { repoRoot } from "../lab/harness";
import {
  autogroupsOffForRun,
  DIRECTORS_PER_SSHD,
  startSimFleet,
  type SimFleet,
} from "./bench-fleet/sim";
import { emptyResult, report, type Result } from "./bench-fleet/report";
import {
  AnswerTimes,
  gauge,
  groupSched,
  groupUsage,
  histogram,
  hottestFunctions,
  type CpuProfile,
  hostCpu,
  bucketCounts,
  mainThreadByEvent,
  percentile,
  quantileBetween,
  sshConnections,
  treeCpuSeconds,
  upDirectors,
  within,
  workPerPush,
} from "./bench-fleet/measure";
import { markPushes, startProfile } from "./bench-fleet/tab";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number`);
  return v;
}
const DIRECTORS = arg("directors", 100);
const SECONDS = arg("seconds", 60);
const INTERVAL_MS = arg("interval", 2000);
// The simulated directors' niceness (sim.ts): 19 gives the console and the tab the CPU first.
const SIM_NICE = arg("sim-nice", 19);
const JSON_OUT = process.argv.includes("--json");
// --profile: also a JS CPU profile of the tab over the measured window, its hottest
// functions printed (the profiler's own cost is then in the figures: for finding, not for
// measuring).
const PROFILE = process.argv.includes("--profile");
// --console-profile: the console runs under node --cpu-prof; its profile (written when it
// stops) is named at the end, with its hottest functions.
const CONSOLE_PROFILE = process.argv.includes("--console-profile");
const PORT = Number(process.env.BENCH_PORT ?? 3103);
const SSH_PORT = Number(process.env.BENCH_FLEET_SSH_PORT ?? 40000);
const BASE = `http://127.0.0.1:${PORT}`;
// Per size: runs of different sizes (other ports) do not share a directory.
const dataDir = join(repoRoot, ".data", `bench-fleet-${DIRECTORS}`);
const PUSH_MARK = "lvs-bench-push";

const log = (line: string) => console.log(line);

async function writeConfig(sim: SimFleet): Promise<{ login: string; token: string }> {
  mkdirSync(dataDir, { recursive: true });
  const configPath = join(dataDir, "lvs-console.yaml");
  // Pairs, as an operator has them: cluster k holds directors 2k and 2k+1.
  const clusters = [];
  for (let i = 0; i < DIRECTORS; i += 2) {
    const directors = [];
    for (let j = i; j < Math.min(i + 2, DIRECTORS); j++) {
      const endpoint = sim.endpoints[Math.floor(j / DIRECTORS_PER_SSHD)];
      if (!endpoint) throw new Error(`no endpoint for director ${j}`);
      directors.push({
        id: `sim${String(j).padStart(4, "0")}`,
        host: endpoint.host,
        port: endpoint.port,
        user: sim.user,
        privateKeyPath: sim.privateKeyPath,
        knownHostsPath: sim.knownHostsPath,
      });
    }
    const n = String(i / 2).padStart(3, "0");
    clusters.push({ id: `pair-${n}`, name: `Pair ${n}`, directors });
  }
  const token = randomBytes(32).toString("hex");
  rmSync(join(dataDir, "db"), { recursive: true, force: true });
  writeFileSync(
    configPath,
    stringify({
      pollIntervalMs: INTERVAL_MS,
      dataDir: join(dataDir, "db"),
      clusters,
      users: [],
      metrics: { token },
    }),
    { mode: 0o600 },
  );
  const admin = await ensureDemoAdmin(configPath);
  if (!admin) throw new Error("could not create the bench's admin");
  return { login: `${admin.name}\n${admin.password}`, token };
}

async function startConsole(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(CONSOLE_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${join(dataDir, "cpuprof")}`] : []),
      join(repoRoot, "node_modules/next/dist/bin/next"),
      "start",
      "-H",
      "127.0.0.1",
      "-p",
      String(PORT),
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        LVS_CONSOLE_CONFIG: join(dataDir, "lvs-console.yaml"),
        NEXT_TELEMETRY_DISABLED: "1",
        LOG_LEVEL: "warn",
      },
      stdio: [
        "ignore",
        openSync(join(dataDir, "console.log"), "w"),
        openSync(join(dataDir, "console.log"), "a"),
      ],
      detached: true,
    },
  );
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${BASE}/login`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("next start did not come up (did you run `npx next build`?)");
}

async function openFleet(browser: Browser, login: string): Promise<Page> {
  const [user = "", password = ""] = login.split("\n");
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  await context.addInitScript(markPushes, PUSH_MARK);
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL((u) => u.pathname === "/");
  return page;
}

// Each /metrics scrape's time, and a /healthz's asked beside it: a slow scrape in a server that
// answers the rest fast is the scrape's own cost, not a server behind on everything.
// The start's scrapes (every first poll and handshake at once) are timed apart from the
// measured minute's.
const startAnswers = { metrics: new AnswerTimes(), healthz: new AnswerTimes() };
const measuredAnswers = { metrics: new AnswerTimes(), healthz: new AnswerTimes() };
let answerTimes = startAnswers;

async function scrapeMetrics(token: string): Promise<string> {
  const [text] = await Promise.all([
    answerTimes.metrics.fetchText(`${BASE}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    }),
    answerTimes.healthz.fetchText(`${BASE}/healthz`).catch(() => ""),
  ]);
  return text;
}

async function run(result: Result, cleanup: Array<() => Promise<void> | void>): Promise<void> {
  log(
    `bench:fleet: ${DIRECTORS} simulated directors (nice ${SIM_NICE}), ${INTERVAL_MS} ms interval, ${SECONDS} s`,
  );
  const autogroups = autogroupsOffForRun();
  if (autogroups) {
    cleanup.push(() => autogroups.restore());
    log(
      `  scheduler autogroups off for the run (restored after): else nice ${SIM_NICE} does not hold`,
    );
  }
  const sim = await startSimFleet({
    repoRoot,
    dir: join(dataDir, "sim"),
    directors: DIRECTORS,
    basePort: SSH_PORT,
    nice: SIM_NICE,
  });
  cleanup.push(() => sim.stop());
  log(
    `  ${sim.endpoints.length} sshd on 127.0.0.1:${SSH_PORT}-${SSH_PORT + sim.endpoints.length - 1}`,
  );
  const { login, token } = await writeConfig(sim);
  const server = await startConsole();
  cleanup.push(async () => {
    const exited = new Promise((r) => server.once("exit", r));
    if (server.pid !== undefined) process.kill(-server.pid, "SIGTERM");
    // Its profile is written as it exits.
    if (CONSOLE_PROFILE) await exited;
  });
  const pgid = server.pid ?? 0;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  cleanup.push(() => browser.close());
  const page = await openFleet(browser, login);
  const t0 = performance.now();
  // Counted by the console (lvs_director_up), not in the page: a card off screen keeps
  // showing what it showed when it was last in view (fleet-overview.tsx), by design.
  const live = async () => upDirectors(await scrapeMetrics(token));
  // Every director live, or the deadline: on a loaded machine some first handshakes time out
  // and back off; the measurement then runs with what is live, and says how many were.
  const deadline = t0 + 60_000 + DIRECTORS * 200;
  let up = 0;
  while ((up = await live().catch(() => 0)) < DIRECTORS && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
  }
  const allLive = up >= DIRECTORS;
  if (!allLive) {
    // Say why: how many rows the page shows in which state, and the first problem shown.
    const seen = await page.evaluate(() => {
      const rows = [...document.querySelectorAll("tr[data-reachability]")];
      const counts: Record<string, number> = {};
      for (const r of rows) {
        const k = r.getAttribute("data-reachability") ?? "?";
        counts[k] = (counts[k] ?? 0) + 1;
      }
      const problem = rows.map((r) => r.lastElementChild?.textContent ?? "").find((t) => t);
      return `${JSON.stringify(counts)}${problem ? `; first problem: ${problem}` : ""}`;
    });
    log(
      `  not every director went live in time: ${up} up (console); the page's rows ${seen}; measuring anyway`,
    );
  }
  if (allLive) {
    result.secondsToAllLive = (performance.now() - t0) / 1000;
    log(`  all ${DIRECTORS} rows live after ${result.secondsToAllLive.toFixed(1)} s; measuring`);
  }

  // A few intervals to settle (the first full reads, the doctor's first runs), then measure.
  await page.waitForTimeout(3 * INTERVAL_MS);
  await browser.startTracing(page, {
    categories: ["toplevel", "blink.user_timing", ...(PROFILE ? ["devtools.timeline"] : [])],
  });
  await page.evaluate(() => {
    const w = window as unknown as { __pushes: number[]; __pushChars: number[] };
    w.__pushes = [];
    w.__pushChars = [];
  });
  const profiler = PROFILE ? await startProfile(page) : null;
  answerTimes = measuredAnswers;
  const before = await scrapeMetrics(token);
  const u0 = groupUsage(pgid);
  const sched0 = groupSched(pgid);
  let diskWaitSamples = 0;
  const host0 = hostCpu();
  const sim0 = treeCpuSeconds(sim.pids);
  const w0 = performance.now();
  const rss: number[] = [];
  const conns: number[] = [];
  const portsTo = SSH_PORT + sim.endpoints.length - 1;
  while (performance.now() - w0 < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(groupUsage(pgid).rssMb);
    if (groupSched(pgid).inDiskWait > 0) diskWaitSamples++;
    conns.push(sshConnections(SSH_PORT, portsTo));
  }
  const u1 = groupUsage(pgid);
  const sched1 = groupSched(pgid);
  const host1 = hostCpu();
  const sim1 = treeCpuSeconds(sim.pids);
  const elapsed = (performance.now() - w0) / 1000;
  const after = await scrapeMetrics(token);
  result.cpuCores = (u1.cpuSeconds - u0.cpuSeconds) / elapsed;
  result.mainThreadRunShare = (sched1.runS - sched0.runS) / elapsed;
  result.mainThreadWaitShare = (sched1.waitS - sched0.waitS) / elapsed;
  result.diskWaitShare = diskWaitSamples / Math.max(1, rss.length);
  result.hostCpuCores = (host1.busy - host0.busy) / elapsed;
  result.simCpuCores = (sim1 - sim0) / elapsed;
  const lateBefore = histogram(before, "lvs_poll_lateness_seconds");
  const lateAfter = histogram(after, "lvs_poll_lateness_seconds");
  const durationBefore = histogram(before, "lvs_director_poll_duration_seconds");
  const durationAfter = histogram(after, "lvs_director_poll_duration_seconds");
  result.pollDurationP50Ms = quantileBetween(durationBefore, durationAfter, 0.5);
  result.pollDurationP99Ms = quantileBetween(durationBefore, durationAfter, 0.99);
  log(`  polls by duration (s): ${bucketCounts(durationBefore, durationAfter)}`);
  log(`  polls by lateness (s): ${bucketCounts(lateBefore, lateAfter)}`);
  const lag = gauge(after, "nodejs_eventloop_lag_p99_seconds");
  result.eventLoopLagP99Ms = lag === null ? null : lag * 1000;
  result.rssMb = Math.max(...rss);
  result.pollLatenessP50Ms = quantileBetween(lateBefore, lateAfter, 0.5);
  result.pollLatenessP99Ms = quantileBetween(lateBefore, lateAfter, 0.99);
  result.sshConnections = percentile(conns, 50);
  if (profiler) log(await within(60_000, "stopping the profiler", profiler()));
  const trace = await within(60_000, "stopping the trace", browser.stopTracing());
  const { latencies, chars } = await within(
    30_000,
    "reading the tab's push times",
    page.evaluate(() => {
      const w = window as unknown as { __pushes: number[]; __pushChars: number[] };
      return { latencies: w.__pushes, chars: w.__pushChars };
    }),
  );
  const chars50 = percentile(chars, 50);
  result.pushKbP50 = chars50 === null ? null : chars50 / 1024;
  result.pushLatencyP50Ms = percentile(latencies, 50);
  result.pushLatencyP99Ms = percentile(latencies, 99);
  const work = workPerPush(trace.toString("utf8"), PUSH_MARK);
  if (PROFILE) log(mainThreadByEvent(trace.toString("utf8"), PUSH_MARK, 15));
  result.pushes = work.perPush.length;
  result.pushMainThreadP50Ms = percentile(work.perPush, 50);
  result.pushMainThreadP99Ms = percentile(work.perPush, 99);
  result.pushMainThreadCpuP50Ms = work.cpuPerPush && percentile(work.cpuPerPush, 50);
  result.pushMainThreadCpuP99Ms = work.cpuPerPush && percentile(work.cpuPerPush, 99);
  result.pushLongestTaskP99Ms = percentile(work.longestPerPush, 99);
  result.mainThreadBusyShare = work.busyShare;
  // At 500 directors on this host a scrape took 20-35 s (the server is behind on every
  // request): the count waits for it rather than report nothing.
  result.liveDirectors = await within(120_000, "counting live directors", live());
}

/** The console's CPU profile (the newest in `dir`): its hottest functions and its file. */
function consoleProfile(dir: string): string {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")) : [];
  const newest = files.sort().at(-1);
  if (!newest) return `  no console profile in ${dir}`;
  const file = join(dir, newest);
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  return `${hottestFunctions(profile, 25, "console CPU profile (the whole run)")}\n  profile: ${file}`;
}

async function main(): Promise<void> {
  const result = emptyResult(DIRECTORS, INTERVAL_MS, SECONDS);

  const cleanup: Array<() => Promise<void> | void> = [];
  try {
    // The whole run has a deadline too: whatever hangs, the figures so far are reported.
    await within((300 + DIRECTORS * 0.5 + SECONDS) * 1000, "the run", run(result, cleanup));
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  }
  for (const step of cleanup.reverse()) {
    try {
      await within(20_000, "cleanup", Promise.resolve(step()));
    } catch {
      // best effort: the rest still runs
    }
  }
  if (CONSOLE_PROFILE) log(consoleProfile(join(dataDir, "cpuprof")));
  result.metricsScrapeMaxMs = measuredAnswers.metrics.maxMs();
  result.healthzMaxMs = measuredAnswers.healthz.maxMs();
  result.startMetricsMaxMs = startAnswers.metrics.maxMs();
  result.startHealthzMaxMs = startAnswers.healthz.maxMs();
  report(result);
  if (JSON_OUT) console.log(JSON.stringify(result));
  process.exit(result.error ? 1 : 0);
}

void main();
