/**
 * bench:ui --big-director: the director page of a director with 200 virtual services and
 * 1,000 realservers (scripts/big-director.ts loads the lab with them, traffic on three):
 * - time to interactive: navigation start -> the first frame with every service's row and
 *   the first screen's realservers (timed in the page; fresh context, median of 3; the
 *   others render as they come near the screen);
 * - main-thread time per live update (p50/p99): the tab's top-level tasks from each push
 *   of live.director to the next (a Chromium trace, as bench:fleet measures the fleet page);
 * - the tab's JS heap after a forced GC at the start, after the first minute and at the end
 *   of --minutes of updates;
 * - input to the frame that shows it, timed in the page: jumping to the last service,
 *   collapsing and expanding one, filtering services by text and clearing the filter;
 * - the realserver page ("where does 10.10.0.11 serve") for a realserver in 20 services.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "@playwright/test";
import { mainThreadByEvent, percentile, workPerPush } from "./bench-fleet/measure";
import { markPushes, startProfile } from "./bench-fleet/tab";
import { BIG_FIRST_PORT, BIG_SERVICES, BIG_VIP } from "./big-director";

const MARK = "lvs-bench-director-push";
// As the page names services (formatServiceKey); the last and the other ones used are TCP.
const LAST_SERVICE = `TCP ${BIG_VIP}:${BIG_FIRST_PORT + BIG_SERVICES - 1}`;
const FIRST_SERVICE = `TCP ${BIG_VIP}:${BIG_FIRST_PORT}`;

export interface BigDirectorResult {
  bigDirectorInteractiveMs: number | null;
  bigDirectorUpdateP50Ms: number | null;
  bigDirectorUpdateP99Ms: number | null;
  /** Each update's longest main-thread task p99: what holds a frame back. */
  bigDirectorLongestTaskP99Ms: number | null;
  /** The updates' main-thread CPU time (the trace's thread times), without waits for a core. */
  bigDirectorUpdateCpuP99Ms: number | null;
  bigDirectorUpdates: number;
  bigDirectorHeapGrowthMb: number | null;
  /** After the first minute (null for a run of under 2 minutes). */
  bigDirectorHeapSteadyGrowthMb: number | null;
  bigDirectorJumpMs: number;
  bigDirectorCollapseMs: number;
  bigDirectorExpandMs: number;
  bigDirectorFilterMs: number;
  bigDirectorUnfilterMs: number;
  bigDirectorRealserverPageMs: number | null;
}

const median = (xs: number[]) => percentile(xs, 50);
const SETTLE_MS = 5_000;

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

async function interactive(page: Page, url: string): Promise<number> {
  const t0 = performance.now();
  await page.goto(url, { waitUntil: "commit" });
  try {
    // Every service's row, and the realservers of the first screen's services (the others
    // render as they come near the screen: service-table.tsx).
    await page.locator(INTERACTIVE.last).waitFor({ timeout: 60_000 });
    await page.locator(INTERACTIVE.first).first().waitFor({ timeout: 60_000 });
  } catch (e) {
    // Say what the page showed instead: how many services, and any alert.
    const shown = await page.evaluate(() => ({
      services: document.querySelectorAll("[data-service]:not([data-realserver])").length,
      realservers: document.querySelectorAll("tr[data-realserver]").length,
      alert: document.querySelector('[role="alert"]')?.textContent?.slice(0, 300) ?? null,
      last: [...document.querySelectorAll("[data-service]")].at(-1)?.getAttribute("data-service"),
    }));
    throw new Error(
      `the last service's realservers never showed (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); the page showed ${JSON.stringify(shown)}`,
    );
  }
  // The frame it first showed in, as the page saw it (WATCH_INTERACTIVE); the wall time
  // here is late by up to a locator poll (500 ms apart after the first second).
  const seen = await page.evaluate(() => (window as { __interactiveAt?: number }).__interactiveAt);
  return seen ?? performance.now() - t0;
}

const INTERACTIVE = {
  last: `[data-service="${LAST_SERVICE}"]:not([data-realserver])`,
  first: `tr[data-realserver][data-service="${FIRST_SERVICE}"]`,
};

/**
 * Runs in the tab from the document's start (addInitScript): the time since navigation
 * start of the first frame showing the last service's row and the first service's
 * realservers, in window.__interactiveAt. A string: tsx would wrap a function's inner
 * functions in a helper that exists only in Node.
 */
const WATCH_INTERACTIVE = `(() => {
  const sel = ${JSON.stringify(INTERACTIVE)};
  const check = () => {
    if (document.querySelector(sel.last) && document.querySelector(sel.first)) {
      window.__interactiveAt = performance.now();
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

/** The page load's steps, ms from navigation start (--profile): what time to interactive is made of. */
async function loadSteps(page: Page): Promise<string> {
  const steps = await page.evaluate((mark) => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    const scripts = (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
      .filter((r) => r.name.endsWith(".js"))
      .map((r) => r.responseEnd);
    return {
      html: nav.responseEnd,
      scripts: Math.max(0, ...scripts),
      domContentLoaded: nav.domContentLoadedEventEnd,
      streamOpened: performance.getEntriesByName(`${mark}:open`)[0]?.startTime ?? null,
      firstPush: performance.getEntriesByName(mark)[0]?.startTime ?? null,
      now: performance.now(),
    };
  }, MARK);
  return Object.entries(steps)
    .map(([k, v]) => `${k} ${v === null ? "-" : v.toFixed(0)}`)
    .join(", ");
}

type Input =
  | { kind: "toggle"; service: string; expanded: boolean }
  | { kind: "filter"; text: string; only: string | null; services: number }
  | { kind: "jump"; service: string };

/**
 * An input and the frame that shows its effect, timed in the page. Not through Playwright's
 * locators: on a page of 5,000 buttons, resolving a role locator takes seconds by itself.
 */
async function inPage(page: Page, input: Input): Promise<number> {
  // tsx (esbuild, keepNames) wraps the named functions below in a __name helper that only
  // exists in Node: the page gets a stand-in.
  await page.evaluate("globalThis.__name ??= (f) => f");
  return page.evaluate(async (input) => {
    const t0 = performance.now();
    const serviceRows = () => [...document.querySelectorAll("[data-service]")];
    let done: () => boolean;
    if (input.kind === "toggle") {
      const button = document.querySelector<HTMLButtonElement>(
        `[data-service="${input.service}"]:not([data-realserver]) button[aria-expanded]`,
      );
      if (!button) throw new Error(`no expand button for ${input.service}`);
      button.click();
      const rows = () =>
        document.querySelectorAll(`tr[data-realserver][data-service="${input.service}"]`).length;
      done = () =>
        button.getAttribute("aria-expanded") === String(input.expanded) &&
        rows() > 0 === input.expanded;
    } else if (input.kind === "jump") {
      const head = document.querySelector(
        `[data-service="${input.service}"]:not([data-realserver])`,
      );
      if (!head) throw new Error(`no row for ${input.service}`);
      head.scrollIntoView({ block: "start" });
      done = () =>
        document.querySelector(`tr[data-realserver][data-service="${input.service}"]`) !== null;
    } else {
      const box = document.querySelector<HTMLInputElement>('input[type="search"]');
      if (!box) throw new Error("no filter box");
      // As typing does it: React listens for input events, with the value set natively.
      const value = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
      value?.set?.call(box, input.text);
      box.dispatchEvent(new Event("input", { bubbles: true }));
      const only = input.only;
      done = () => {
        const rows = serviceRows();
        if (only === null)
          return rows.filter((r) => !r.hasAttribute("data-realserver")).length >= input.services;
        return rows.length > 0 && rows.every((r) => r.getAttribute("data-service") === only);
      };
    }
    await new Promise<void>((resolve, reject) => {
      const until = t0 + 60_000;
      const check = () => {
        if (done()) resolve();
        else if (performance.now() > until) reject(new Error(`${input.kind}: not shown in 60 s`));
        else requestAnimationFrame(check);
      };
      check();
    });
    // The frame that paints it.
    await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  }, input);
}

export async function bigDirectorBench(
  browser: Browser,
  signedIn: BrowserContext,
  base: string,
  directorId: string,
  minutes: number,
): Promise<BigDirectorResult> {
  const url = `${base}/directors/${encodeURIComponent(directorId)}`;
  console.log(`\n3. big director (${BIG_SERVICES} services, 1,000 realservers): ${url}`);
  const state = await signedIn.storageState();
  const profile = process.argv.includes("--profile");
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext({
      storageState: state,
      viewport: { width: 1366, height: 900 },
    });
    await context.addInitScript({ content: WATCH_INTERACTIVE });
    if (profile) await context.addInitScript(markPushes, MARK);
    const page = await context.newPage();
    const profiler = profile && i === 2 ? await startProfile(page) : null;
    times.push(await interactive(page, url));
    if (profile) console.log(`   where the load went: ${await loadSteps(page)}`);
    if (profiler) console.log(`  the load's hottest functions (self time):\n${await profiler()}`);
    await context.close();
  }
  console.log(
    `   time to interactive: median ${median(times)?.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(", ")})`,
  );

  const context = await browser.newContext({
    storageState: state,
    viewport: { width: 1366, height: 900 },
  });
  await context.addInitScript(markPushes, MARK);
  await context.addInitScript({ content: WATCH_INTERACTIVE });
  const page = await context.newPage();
  await interactive(page, url);
  // What an operator meets a moment after the page showed: its other queries (history,
  // doctor, drains) answered and drawn.
  await page.waitForTimeout(SETTLE_MS);

  // Collapse one service, expand it again, filter by a service's port and clear the filter.
  const first = FIRST_SERVICE;
  const only = `TCP ${BIG_VIP}:${BIG_FIRST_PORT + 123}`;
  const jumpMs = await inPage(page, { kind: "jump", service: LAST_SERVICE });
  await page.evaluate(() => window.scrollTo(0, 0));
  const collapseMs = await inPage(page, { kind: "toggle", service: first, expanded: false });
  const expandMs = await inPage(page, { kind: "toggle", service: first, expanded: true });
  const filterMs = await inPage(page, {
    kind: "filter",
    text: `:${BIG_FIRST_PORT + 123}`,
    only,
    services: BIG_SERVICES,
  });
  const unfilterMs = await inPage(page, {
    kind: "filter",
    text: "",
    only: null,
    services: BIG_SERVICES,
  });
  console.log(
    `   input to the frame showing it: jump to the last service with its realservers ${jumpMs.toFixed(0)} ms, collapse ${collapseMs.toFixed(0)} ms, expand ${expandMs.toFixed(0)} ms; filter to one service ${filterMs.toFixed(0)} ms, clear ${unfilterMs.toFixed(0)} ms`,
  );

  // Traced in phases with the heap read (after a forced GC) between them, outside the
  // traces: the first minute (caches and history filling) and the rest, where growth would
  // be a leak.
  const heap0 = await heapMb(page);
  const phases = minutes >= 2 ? [1, minutes - 1] : [minutes];
  const perPush: number[] = [];
  const cpuPerPush: number[] = [];
  const longest: number[] = [];
  const heaps = [heap0];
  for (const phase of phases) {
    await browser.startTracing(page, {
      categories: ["toplevel", "blink.user_timing", ...(profile ? ["devtools.timeline"] : [])],
    });
    const profiler = profile ? await startProfile(page) : null;
    await page.waitForTimeout(phase * 60_000);
    if (profiler) console.log(`  hottest functions in the tab (self time):\n${await profiler()}`);
    const trace = (await browser.stopTracing()).toString("utf8");
    heaps.push(await heapMb(page));
    const work = workPerPush(trace, MARK);
    perPush.push(...work.perPush);
    cpuPerPush.push(...(work.cpuPerPush ?? []));
    longest.push(...work.longestPerPush);
    if (profile) {
      console.log(mainThreadByEvent(trace, MARK, 25));
      const file = join(tmpdir(), `lvs-bench-director-${Date.now()}.trace.json`);
      writeFileSync(file, trace);
      console.log(`  trace (chrome://tracing, Perfetto): ${file}`);
    }
  }
  const heap1 = heaps.at(-1) ?? heap0;
  const steady = heaps.length > 2 ? heap1 - (heaps[1] ?? heap0) : null;
  console.log(
    `   live updates: ${perPush.length} in ${minutes} min; main thread per update p50 ${percentile(perPush, 50)?.toFixed(1)} ms, p99 ${percentile(perPush, 99)?.toFixed(1)} ms; its longest task p50 ${percentile(longest, 50)?.toFixed(1)} ms, p99 ${percentile(longest, 99)?.toFixed(1)} ms; its CPU time p50 ${percentile(cpuPerPush, 50)?.toFixed(1)} ms, p99 ${percentile(cpuPerPush, 99)?.toFixed(1)} ms`,
  );
  console.log(
    `   JS heap after GC: ${heaps.map((h) => h.toFixed(1)).join(" -> ")} MB (${(heap1 - heap0).toFixed(1)} MB in all${steady === null ? "" : `, ${steady.toFixed(1)} MB after the first minute`})`,
  );

  // The realserver page for the realserver in 20 services.
  const t = performance.now();
  await page.goto(`${base}/realservers/10.10.0.11`, { waitUntil: "commit" });
  await page
    .getByText(`${BIG_VIP}:${BIG_FIRST_PORT + 190}`)
    .first()
    .waitFor({ timeout: 60_000 });
  const realserverMs = performance.now() - t;
  console.log(`   realserver page (10.10.0.11 in 20 services): ${realserverMs.toFixed(0)} ms`);
  await context.close();
  return {
    bigDirectorInteractiveMs: median(times),
    bigDirectorUpdateP50Ms: percentile(perPush, 50),
    bigDirectorUpdateP99Ms: percentile(perPush, 99),
    bigDirectorLongestTaskP99Ms: percentile(longest, 99),
    bigDirectorUpdateCpuP99Ms: percentile(cpuPerPush, 99),
    bigDirectorUpdates: perPush.length,
    bigDirectorHeapGrowthMb: heap1 - heap0,
    bigDirectorHeapSteadyGrowthMb: steady,
    bigDirectorJumpMs: jumpMs,
    bigDirectorCollapseMs: collapseMs,
    bigDirectorExpandMs: expandMs,
    bigDirectorFilterMs: filterMs,
    bigDirectorUnfilterMs: unfilterMs,
    bigDirectorRealserverPageMs: realserverMs,
  };
}
