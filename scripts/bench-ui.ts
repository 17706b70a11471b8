/**
 * npm run bench:ui: the UI's figures against a real lab director and a production build
 * (run `npx next build` first). Not a test: it prints what it measures.
 *
 * 1. Fleet page time to interactive: navigation start -> the lab director's first live row
 *    (reachable, ipvsadm version shown). Fresh browser context each run, median of 5.
 * 2. The connection table at 100,000 REAL entries. The bench adds a UDP service
 *    (203.0.113.12:9, round robin over the three realservers) and `lab-traffic fill` sends
 *    100,000 one-datagram flows through it, so the kernel's /proc/net/ip_vs_conn holds 100k
 *    entries (the UDP timeout is raised for the run, so none expire before the end; the
 *    service and the timeout are put back afterwards). Side by side, in one run:
 *    - today's way: a fresh `ssh director grep -c CLIENT_HEX /proc/net/ip_vs_conn` per filter
 *      (one read of the whole table per question), and `ipvsadm -Lnc | grep -c` once;
 *    - the console: its first read of the table (first view of the connections page); a
 *      filter answered over HTTP (connections.list, the server alone); a filter typed in the
 *      browser -> the matched count and the first matching rows on screen; a jump to row
 *      90,000 -> that row rendered.
 *    And the ratio: browser filter response / a fresh ssh grep.
 *
 * 3. With --big-director [--minutes M] [--json]: instead of 1 and 2, the lab is loaded with
 *    200 services and 1,000 realservers (scripts/big-director.ts, put back at the end) and
 *    bench-ui-big.ts measures its director page: time to interactive, main-thread time per
 *    live update, the tab's heap over M minutes (default 10). --json prints one JSON line
 *    with bigDirectorInteractiveMs, bigDirectorUpdateP99Ms, bigDirectorHeapGrowthMb.
 *
 * LVS_LAB_NAME / LVS_LAB_PORT pick the lab (default `benchui` on 2262, its own so the big
 * table never reaches the tests' lab; a lab started here is stopped at the end).
 * BENCH_PORT: the console's port (default 3102).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser, type BrowserContext } from "@playwright/test";
import { addressToHex } from "../server/ipvs/connections-filter";
import { ensureLab, labExec, repoRoot, stopLab } from "../lab/harness";
import { bigDirectorBench } from "./bench-ui-big";
import { bigDirectorDown, bigDirectorUp } from "./big-director";

const execFileP = promisify(execFile);
const LAB_NAME = process.env.LVS_LAB_NAME ?? "benchui";
const LAB_PORT = Number(process.env.LVS_LAB_PORT ?? 2262);
const PORT = Number(process.env.BENCH_PORT ?? 3102);
const BASE = `http://127.0.0.1:${PORT}`;
const ENTRIES = 100_000;
const FILL_VIP = "203.0.113.12:9";
const dataDir = join(repoRoot, ".data", "bench-ui");
const configPath = join(dataDir, "lvs-console.yaml");
const CLIENTS = Array.from({ length: 10 }, (_, i) => `203.0.113.${100 + i}`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
const ms = (x: number) => `${x.toFixed(0)} ms`;
const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");

async function lab(command: string, timeoutMs = 300_000): Promise<string> {
  const r = await labExec(LAB_NAME, command, { timeoutMs });
  if (r.code !== 0) throw new Error(`lab: ${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Times one fresh OpenSSH session running `command` on the director. */
async function timedLab(command: string): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const stdout = await lab(command);
  return { ms: performance.now() - t0, stdout };
}

async function startServer(): Promise<ChildProcess> {
  const child = spawn("npx", ["next", "start", "-H", "127.0.0.1", "-p", String(PORT)], {
    cwd: repoRoot,
    env: { ...process.env, LVS_CONSOLE_CONFIG: configPath, NEXT_TELEMETRY_DISABLED: "1" },
    // The console's log, for when a step fails (what the director answered, or not).
    stdio: [
      "ignore",
      openSync(join(dataDir, "console.log"), "w"),
      openSync(join(dataDir, "console.log"), "a"),
    ],
    detached: true,
  });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${BASE}/login`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("next start did not come up");
}

async function signIn(browser: Browser, login: string): Promise<BrowserContext> {
  const m = /Login:\s+(\S+) \/ (\S+)/.exec(login);
  if (!m?.[1] || !m[2]) throw new Error(`no demo login in ${JSON.stringify(login)}`);
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.getByLabel("User name").fill(m[1]);
  await page.getByLabel("Password").fill(m[2]);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL((u) => u.pathname === "/");
  await page.close();
  return context;
}

async function fleetTti(browser: Browser, signedIn: BrowserContext, directorId: string) {
  console.log("\n1. fleet page: navigation start -> first live director row");
  const state = await signedIn.storageState();
  const times: number[] = [];
  const dcl: number[] = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext({
      storageState: state,
      viewport: { width: 1366, height: 768 },
    });
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(`${BASE}/`, { waitUntil: "commit" });
    await page
      .locator(`tr[data-director="${directorId}"][data-reachability="live"]`)
      .filter({ hasText: /v\d+\.\d+/ })
      .waitFor({ timeout: 60_000 });
    times.push(performance.now() - t0);
    dcl.push(
      await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as
          PerformanceNavigationTiming | undefined;
        return nav ? nav.domContentLoadedEventEnd : Number.NaN;
      }),
    );
    await context.close();
  }
  console.log(`   first live data: median ${ms(median(times))} (runs: ${list(times)})`);
  console.log(`   DOMContentLoaded: median ${ms(median(dcl))}`);
}

interface ListResult {
  total: number;
  matched: number;
  countsByState: Record<string, number>;
  read: { readId: number; readMs: number };
}

/** connections.list over HTTP with the signed-in cookie: the server's side alone. */
async function listOverHttp(
  cookie: string,
  directorId: string,
  filter: Record<string, string>,
): Promise<{ ms: number; result: ListResult }> {
  const input = encodeURIComponent(
    JSON.stringify({ json: { directorId, filter, offset: 0, limit: 200 } }),
  );
  const t0 = performance.now();
  const res = await fetch(`${BASE}/api/trpc/connections.list?input=${input}`, {
    headers: { cookie },
  });
  const body = (await res.json()) as { result?: { data?: { json?: ListResult } } };
  const elapsed = performance.now() - t0;
  const result = body.result?.data?.json;
  if (!res.ok || !result) throw new Error(`connections.list: HTTP ${res.status}`);
  return { ms: elapsed, result };
}

async function connectionTable(signedIn: BrowserContext, directorId: string): Promise<void> {
  console.log(`\n2. the connection table with ${ENTRIES.toLocaleString("en")} real entries`);
  const t0 = performance.now();
  const filled = (await lab(`lab-traffic fill --vip ${FILL_VIP} --count ${ENTRIES}`)).trim();
  console.log(
    `   lab-traffic fill: ${filled} UDP flows through ${FILL_VIP} in ${ms(performance.now() - t0)}`,
  );

  // The console: first view of the connections page = its first read of the table.
  const page = await signedIn.newPage();
  const t1 = performance.now();
  await page.goto(`${BASE}/directors/${encodeURIComponent(directorId)}/connections`);
  const matched = page.getByTestId("conn-matched");
  await matched.filter({ hasText: /\d{3},\d{3}/ }).waitFor({ timeout: 300_000 });
  const firstView = performance.now() - t1;
  const cookie = (await signedIn.cookies())
    .filter((c) => c.name === "lvs_session")
    .map((c) => `${c.name}=${c.value}`)
    .join("; ");
  const all = (await listOverHttp(cookie, directorId, {})).result;
  console.log(
    `   console, first view (its read of the table: ssh cat + parse): ${ms(firstView)} for ${all.total.toLocaleString("en")} entries; the read itself ${ms(all.read.readMs)}`,
  );

  // The server's side: a new filter each time (no result cached), over HTTP.
  const serverCold: number[] = [];
  const serverRepeat: number[] = [];
  for (const client of CLIENTS) {
    serverCold.push((await listOverHttp(cookie, directorId, { client })).ms);
    serverRepeat.push((await listOverHttp(cookie, directorId, { client })).ms);
  }
  for (const realserver of ["10.10.0.11", "10.10.0.12", "10.10.0.13"]) {
    serverCold.push((await listOverHttp(cookie, directorId, { realserver, state: "UDP" })).ms);
  }
  console.log(
    `   console, server side (HTTP connections.list, first page of 200): new filter median ${ms(median(serverCold))} (${list(serverCold)}); same filter again ${ms(median(serverRepeat))}`,
  );

  // The browser: type a filter -> count and the first matching rows on screen.
  await page.getByRole("button", { name: "Pause" }).waitFor();
  const clientBox = page.getByLabel("Client (address or prefix)");
  const typed: number[] = [];
  for (const client of CLIENTS.slice(0, 7)) {
    await clientBox.fill("");
    await matched.filter({ hasText: all.total.toLocaleString("en") }).waitFor();
    const t = performance.now();
    await clientBox.fill(client);
    await matched
      .filter({ hasNotText: all.total.toLocaleString("en") })
      .filter({ hasText: /\d/ })
      .waitFor();
    await page
      .locator("[data-conn-row]")
      .first()
      .filter({ hasText: `${client}:` })
      .waitFor();
    typed.push(performance.now() - t);
  }
  await clientBox.fill("");
  await matched.filter({ hasText: all.total.toLocaleString("en") }).waitFor();
  // The two biggest states of the table, back and forth.
  const [big = "UDP", second = "NONE"] = Object.entries(all.countsByState)
    .sort((a, b) => b[1] - a[1])
    .map(([state]) => state);
  const stateTimes: number[] = [];
  for (const state of [second, big, second]) {
    const t = performance.now();
    await page.getByLabel("State", { exact: true }).selectOption(state);
    await page.locator("[data-conn-row]").first().filter({ hasText: state }).waitFor();
    stateTimes.push(performance.now() - t);
  }
  const browserFilter = median(typed);
  console.log(
    `   console, in the browser: client typed -> count + rows shown: median ${ms(browserFilter)} (${list(typed)}); state picked: ${list(stateTimes)} ms`,
  );

  await page.getByLabel("State", { exact: true }).selectOption("");
  await matched.filter({ hasText: all.total.toLocaleString("en") }).waitFor();
  const t2 = performance.now();
  await page
    .getByRole("rowgroup", { name: "Scrollable entries" })
    .evaluate((el) => el.scrollTo({ top: 90_000 * 24 }));
  await page
    .locator('[aria-rowindex="90002"]')
    .filter({ hasText: /TCP|UDP/ })
    .waitFor({ timeout: 30_000 });
  console.log(
    `   console, jump to row 90,000 -> rendered with data: ${ms(performance.now() - t2)}; rows in the DOM: ${await page.locator("[data-conn-row]").count()}`,
  );
  await page.close();

  // Today's way, on the same table: every question reads the whole table again.
  const hex = addressToHex(CLIENTS[4] ?? "");
  const grep: number[] = [];
  let grepCount = "";
  for (let i = 0; i < 2; i++) {
    const r = await timedLab(`grep -c ${hex} /proc/net/ip_vs_conn`);
    grep.push(r.ms);
    grepCount = r.stdout.trim();
  }
  console.log(
    `   today, fresh ssh + grep -c ${hex} /proc/net/ip_vs_conn: median ${ms(median(grep))} (${list(grep)}; ${grepCount} matches)`,
  );
  const ipvsadm = await timedLab(`ipvsadm -Lnc | grep -c ' ${CLIENTS[4]}:'`);
  console.log(
    `   today, fresh ssh + ipvsadm -Lnc | grep -c: ${ms(ipvsadm.ms)} (${ipvsadm.stdout.trim()} matches)`,
  );
  console.log(
    `   ratio browser filter / ssh grep: ${(browserFilter / median(grep)).toFixed(4)}; target: filter response < 200 ms (${browserFilter < 200 ? "met" : "NOT met"})`,
  );
}

const BIG = process.argv.includes("--big-director");
const minutesAt = process.argv.indexOf("--minutes");
const MINUTES = minutesAt >= 0 ? Number(process.argv[minutesAt + 1]) : 10;

async function bigDirector(login: string): Promise<void> {
  // The bench's own lab (LAB_NAME), which its console watches: not big-director's default.
  await bigDirectorUp(true, LAB_NAME);
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const signedIn = await signIn(browser, login);
    const r = await bigDirectorBench(browser, signedIn, BASE, LAB_NAME, MINUTES);
    const met = (x: number | null, t: number) => (x === null ? "n/a" : x < t ? "met" : "NOT met");
    console.log(
      `\n   interactive ${r.bigDirectorInteractiveMs?.toFixed(0)} ms (target < 1000: ${met(r.bigDirectorInteractiveMs, 1000)}); update p99 ${r.bigDirectorUpdateP99Ms?.toFixed(1)} ms (target < 16: ${met(r.bigDirectorUpdateP99Ms, 16)}; its longest task p99 ${r.bigDirectorLongestTaskP99Ms?.toFixed(1)} ms, its CPU time p99 ${r.bigDirectorUpdateCpuP99Ms?.toFixed(1)} ms); heap growth ${r.bigDirectorHeapGrowthMb?.toFixed(1)} MB over ${MINUTES} min${r.bigDirectorHeapSteadyGrowthMb === null ? "" : `, ${r.bigDirectorHeapSteadyGrowthMb.toFixed(1)} MB after the first`} (target: none)`,
    );
    if (process.argv.includes("--json")) console.log(JSON.stringify({ minutes: MINUTES, ...r }));
  } catch (e) {
    // Reported, not a crash: the figures are null and the reason is said.
    const error = e instanceof Error ? e.message : String(e);
    console.log(`\n   the big-director run failed: ${error}`);
    if (process.argv.includes("--json"))
      console.log(
        JSON.stringify({
          minutes: MINUTES,
          bigDirectorInteractiveMs: null,
          bigDirectorUpdateP99Ms: null,
          bigDirectorLongestTaskP99Ms: null,
          bigDirectorUpdateCpuP99Ms: null,
          bigDirectorHeapGrowthMb: null,
          error,
        }),
      );
    process.exitCode = 1;
  } finally {
    await browser.close();
    if (server.pid !== undefined) process.kill(-server.pid, "SIGTERM");
    await bigDirectorDown(LAB_NAME).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  console.log(
    `load average at the start: ${(await import("node:os"))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  const { startedByUs } = await ensureLab({ name: LAB_NAME, port: LAB_PORT, timeoutSeconds: 300 });
  mkdirSync(dataDir, { recursive: true });
  const { stdout: login } = await execFileP(
    "npx",
    ["tsx", "--conditions=react-server", "scripts/demo-config.ts", configPath, dataDir, LAB_NAME],
    { cwd: repoRoot },
  );
  const directorId = LAB_NAME;
  if (BIG) {
    try {
      await bigDirector(login);
    } finally {
      if (startedByUs) await stopLab(LAB_NAME);
    }
    return;
  }
  // Keep the fill's entries for the whole run, then put the lab back as it was.
  const [tcp = "900", tcpfin = "120", udp = "300"] = (
    /(\d+) (\d+) (\d+)/.exec(await lab("ipvsadm -L --timeout")) ?? []
  ).slice(1);
  await lab(
    `ipvsadm --set ${tcp} ${tcpfin} 1200 && ipvsadm -A -u ${FILL_VIP} -s rr && for n in 11 12 13; do ipvsadm -a -u ${FILL_VIP} -r 10.10.0.$n:9 -m; done`,
  );
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const signedIn = await signIn(browser, login);
    await fleetTti(browser, signedIn, directorId);
    await connectionTable(signedIn, directorId);
  } finally {
    await browser.close();
    if (server.pid !== undefined) process.kill(-server.pid, "SIGTERM");
    await lab(`ipvsadm -D -u ${FILL_VIP}; ipvsadm --set ${tcp} ${tcpfin} ${udp}`).catch(
      () => undefined,
    );
    if (startedByUs) await stopLab(LAB_NAME);
    else
      console.log(
        `\n(the lab ${LAB_NAME} keeps the ${ENTRIES.toLocaleString("en")} entries until they expire, 20 min)`,
      );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
