/**
 * UI benchmark (not a test): `npx tsx scripts/bench-ui.ts`. Needs a production build (.next)
 * and the e2e config (e2e/.tmp: `npx tsx e2e/global-setup.ts --prepare` or a Playwright run).
 *
 * Measures:
 *  1. Fleet page time to interactive: navigation start -> the lab director's first live row
 *     (reachable, ipvsadm version shown). Fresh browser context each run (no cache), median of 5.
 *  2. Connection-table filter on 100k entries, server side: a generated 100,000-line file in
 *     /proc/net/ip_vs_conn format is copied to the lab director's /tmp and the console's own awk
 *     program (server/live/connections-query.ts connectionsArgv) runs over it with several
 *     filters. Timed inside the guest (awk alone) and as seen over a fresh SSH session.
 *  3. The browser's side of the same filter with 100k entries: the connections page is opened
 *     with its connections.list responses answered by running that same awk program on this
 *     host over the same file (the director's /proc cannot hold 100k entries without 100k real
 *     flows). Timed: typing a filter -> the matched count and first rows on screen; and a jump
 *     to row 90,000 -> that row rendered (a page fetched while scrolling).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser, type Page } from "@playwright/test";
import superjson from "superjson";
import { labExec, repoRoot } from "../lab/harness";
import {
  connectionFilterSchema,
  connectionsArgv,
  parseConnectionsOutput,
} from "../server/live/connections-query";
import { shellQuote } from "../server/ssh/quote";

const run = promisify(execFile);
const PORT = Number(process.env.BENCH_PORT ?? 3102);
const BASE = `http://127.0.0.1:${PORT}`;
const ENTRIES = 100_000;
const CONN_FILE = "/tmp/bench_ip_vs_conn";
const tmp = join(repoRoot, "e2e", ".tmp");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/** 100k entries shaped like a busy NAT director: 200 client /24s, 3 realservers, mixed states. */
function generateConnTable(): string {
  const states = [
    "ESTABLISHED",
    "ESTABLISHED",
    "ESTABLISHED",
    "TIME_WAIT",
    "TIME_WAIT",
    "FIN_WAIT",
    "SYN_RECV",
    "CLOSE_WAIT",
  ];
  const lines = ["Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData"];
  for (let i = 0; i < ENTRIES; i++) {
    const client = (198 << 24) | (51 << 16) | ((i % 200) << 8) | (1 + (i % 250));
    const template = i % 50 === 0;
    const rs = 11 + (i % 3);
    const vport = i % 4 === 0 ? 8080 : 80;
    const state = template ? "NONE" : (states[i % states.length] ?? "ESTABLISHED");
    lines.push(
      `TCP ${hex(client >>> 0, 8)} ${hex(template ? 0 : 1024 + (i % 60000), 4)} CB00710A ${hex(vport, 4)} 0A0A00${hex(rs, 2)} 0050 ${state.padEnd(11)} ${String(1 + (i % 900)).padStart(7)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const FILTERS = [
  { name: "no filter", filter: {} },
  { name: "state ESTABLISHED", filter: { state: "ESTABLISHED" } },
  { name: "client 198.51.7.0/24", filter: { client: "198.51.7.0/24" } },
  { name: "realserver 10.10.0.12:80", filter: { realserver: "10.10.0.12:80" } },
  {
    name: "service TCP 203.0.113.10:8080 + TIME_WAIT",
    filter: { service: "TCP 203.0.113.10:8080", state: "TIME_WAIT" },
  },
] as const;

async function serverSideFilter(file: string): Promise<void> {
  console.log(
    `\n2. connection-table filter on the director, ${ENTRIES.toLocaleString("en")} entries (awk over ${CONN_FILE})`,
  );
  const content = await readFile(file, "utf8");
  const up = await labExec("lab", `cat > ${CONN_FILE}`, { input: content, timeoutMs: 120_000 });
  if (up.code !== 0) throw new Error(`copy to the lab failed: ${up.stderr}`);
  for (const f of FILTERS) {
    const argv = connectionsArgv(
      connectionFilterSchema.parse(f.filter),
      { offset: 0, limit: 200 },
      null,
      CONN_FILE,
    );
    const line = shellQuote(argv);
    const inGuest: number[] = [];
    const roundTrip: number[] = [];
    let matched = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await labExec(
        "lab",
        `s=$(date +%s%N); ${line} > /tmp/bench_out; e=$(date +%s%N); echo $(( (e - s) / 1000 )); cat /tmp/bench_out`,
        { timeoutMs: 60_000 },
      );
      roundTrip.push(performance.now() - t0);
      const [micros = "0", ...rest] = r.stdout.split("\n");
      inGuest.push(Number(micros) / 1000);
      matched = parseConnectionsOutput(rest.join("\n"), Date.now()).matched;
    }
    console.log(
      `   ${f.name.padEnd(44)} matched ${String(matched).padStart(6)}  awk in guest median ${median(inGuest).toFixed(0).padStart(5)} ms  (ssh round trip incl. new session ${median(roundTrip).toFixed(0)} ms)`,
    );
  }
}

async function login(browser: Browser): Promise<string> {
  const { name, password } = JSON.parse(await readFile(join(tmp, "credentials.json"), "utf8")) as {
    name: string;
    password: string;
  };
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL((u) => u.pathname === "/");
  const state = join(tmp, "bench-state.json");
  await context.storageState({ path: state });
  await context.close();
  return state;
}

async function fleetTti(browser: Browser, state: string): Promise<void> {
  console.log("\n1. fleet page: navigation start -> first live director row");
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
      .locator('tr[data-director="lab"][data-reachability="live"]')
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
  console.log(
    `   first live data: median ${median(times).toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(", ")})`,
  );
  console.log(`   DOMContentLoaded: median ${median(dcl).toFixed(0)} ms`);
}

/** superjson sends an undefined filter field as null (plus meta saying so): null = absent. */
interface BatchInput {
  json: {
    directorId: string;
    filter: Record<string, string | boolean | null>;
    offset: number;
    limit: number;
  };
}

async function browserFilter(browser: Browser, state: string, file: string): Promise<void> {
  console.log(
    `\n3. connections page with ${ENTRIES.toLocaleString("en")} entries (pages answered by the same awk on this host)`,
  );
  const context = await browser.newContext({
    storageState: state,
    viewport: { width: 1366, height: 768 },
  });
  const page: Page = await context.newPage();
  await page.route("**/api/trpc/connections.list**", async (route) => {
    const url = new URL(route.request().url());
    const inputs = JSON.parse(url.searchParams.get("input") ?? "{}") as Record<string, BatchInput>;
    const out = [];
    for (const key of Object.keys(inputs).sort()) {
      const raw = inputs[key];
      if (!raw) continue;
      const input = raw.json;
      const filter = connectionFilterSchema.parse(
        Object.fromEntries(Object.entries(input.filter).filter(([, v]) => v !== null)),
      );
      const [cmd = "awk", ...args] = connectionsArgv(
        filter,
        { offset: input.offset, limit: input.limit },
        null,
        file,
      );
      const { stdout } = await run(cmd, args, { maxBuffer: 64 << 20 });
      out.push({
        result: { data: superjson.serialize(parseConnectionsOutput(stdout, Date.now())) },
      });
    }
    await route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify(out),
    });
  });
  await page.goto(`${BASE}/directors/lab/connections`);
  const matched = page.getByTestId("conn-matched");
  await matched.filter({ hasText: "100,000" }).waitFor({ timeout: 60_000 });
  await page.getByRole("button", { name: "Pause polling" }).click();

  const typing: number[] = [];
  for (const [i, client] of ["198.51.7.0/24", "198.51.42.0/24", "198.51.199.0/24"].entries()) {
    await page.getByLabel("Client (address or prefix)").fill("");
    await matched.filter({ hasText: "100,000" }).waitFor();
    const t0 = performance.now();
    await page.getByLabel("Client (address or prefix)").fill(client);
    await matched.filter({ hasText: /^500$/ }).waitFor({ timeout: 30_000 });
    await page
      .locator("[data-conn-row]")
      .first()
      .filter({ hasText: client.replace("0/24", "") })
      .waitFor();
    typing.push(performance.now() - t0);
    if (i === 0) console.log("   (includes the 250 ms typing debounce)");
  }
  console.log(
    `   filter typed -> matched count + rows shown: median ${median(typing).toFixed(0)} ms (${typing.map((t) => t.toFixed(0)).join(", ")})`,
  );

  await page.getByLabel("Client (address or prefix)").fill("");
  await matched.filter({ hasText: "100,000" }).waitFor();
  const t1 = performance.now();
  await page
    .getByRole("rowgroup", { name: "Scrollable entries" })
    .evaluate((el) => el.scrollTo({ top: 90_000 * 24 }));
  await page
    .locator('[aria-rowindex="90002"]')
    .filter({ hasText: "TCP" })
    .waitFor({ timeout: 30_000 });
  console.log(
    `   jump to row 90,000 -> rendered with data: ${(performance.now() - t1).toFixed(0)} ms`,
  );
  const domRows = await page.locator("[data-conn-row]").count();
  console.log(`   rows in the DOM while showing 100,000: ${domRows}`);
  await context.close();
}

async function startServer(): Promise<ChildProcess> {
  const child = spawn("npx", ["next", "start", "-H", "127.0.0.1", "-p", String(PORT)], {
    cwd: repoRoot,
    env: { ...process.env, LVS_CONSOLE_CONFIG: join(tmp, "lvs-console.yaml") },
    stdio: "ignore",
    detached: true,
  });
  for (let i = 0; i < 120; i++) {
    try {
      const r = await fetch(`${BASE}/login`);
      if (r.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("next start did not come up");
}

async function main(): Promise<void> {
  const file = join(tmp, "bench_ip_vs_conn");
  await writeFile(file, generateConnTable());
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const state = await login(browser);
    await fleetTti(browser, state);
    await serverSideFilter(file);
    await browserFilter(browser, state, file);
  } finally {
    await browser.close();
    if (server.pid !== undefined) process.kill(-server.pid, "SIGTERM");
    await labExec("lab", `rm -f ${CONN_FILE} /tmp/bench_out`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
