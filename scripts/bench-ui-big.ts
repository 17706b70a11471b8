/**
 * bench:ui --big-director: the director page of a director with 200 virtual services and
 * 1,000 realservers (scripts/big-director.ts loads the lab with them, traffic on three):
 * - time to interactive: navigation start -> the last service's row rendered with its
 *   realservers (fresh context, median of 3);
 * - main-thread time per live update (p50/p99): the tab's top-level tasks from each push
 *   of live.director to the next (a Chromium trace, as bench:fleet measures the fleet page);
 * - the tab's JS heap after a forced GC at the start and the end of --minutes of updates;
 * - collapsing a service, filtering services by text, and the realserver page ("where
 *   does 10.10.0.11 serve") for a realserver in 20 of the services.
 */
import type { Browser, BrowserContext, Page } from "@playwright/test";
import { mainThreadByEvent, percentile, workPerPush } from "./bench-fleet/measure";
import { markPushes } from "./bench-fleet/tab";
import { BIG_FIRST_PORT, BIG_SERVICES, BIG_VIP } from "./big-director";

const MARK = "lvs-bench-director-push";
// As the page names services (formatServiceKey); the last and the other ones used are TCP.
const LAST_SERVICE = `TCP ${BIG_VIP}:${BIG_FIRST_PORT + BIG_SERVICES - 1}`;

export interface BigDirectorResult {
  bigDirectorInteractiveMs: number | null;
  bigDirectorUpdateP50Ms: number | null;
  bigDirectorUpdateP99Ms: number | null;
  bigDirectorUpdates: number;
  bigDirectorHeapGrowthMb: number | null;
  bigDirectorCollapseMs: number | null;
  bigDirectorFilterMs: number | null;
  bigDirectorRealserverPageMs: number | null;
}

const median = (xs: number[]) => percentile(xs, 50);

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
    await page
      .locator(`tr[data-realserver][data-service="${LAST_SERVICE}"]`)
      .first()
      .waitFor({ timeout: 60_000 });
  } catch (e) {
    // Say what the page showed instead: how many services, and any alert.
    const shown = await page.evaluate(() => ({
      services: document.querySelectorAll("tr[data-service]:not([data-realserver])").length,
      realservers: document.querySelectorAll("tr[data-realserver]").length,
      alert: document.querySelector('[role="alert"]')?.textContent?.slice(0, 300) ?? null,
      last: [...document.querySelectorAll("tr[data-service]")].at(-1)?.getAttribute("data-service"),
    }));
    throw new Error(
      `the last service's realservers never showed (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); the page showed ${JSON.stringify(shown)}`,
    );
  }
  return performance.now() - t0;
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
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext({
      storageState: state,
      viewport: { width: 1366, height: 900 },
    });
    times.push(await interactive(await context.newPage(), url));
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
  const page = await context.newPage();
  await interactive(page, url);

  // Collapse and expand one service; filter by a service's port.
  const first = `TCP ${BIG_VIP}:${BIG_FIRST_PORT}`;
  let t = performance.now();
  await page.getByRole("button", { name: `Collapse ${first}` }).click();
  await page.getByRole("button", { name: `Expand ${first}` }).waitFor();
  const collapseMs = performance.now() - t;
  await page.getByRole("button", { name: `Expand ${first}` }).click();
  const filter = page.getByLabel("Filter services");
  let filterMs: number | null = null;
  if ((await filter.count()) > 0) {
    t = performance.now();
    await filter.fill(`:${BIG_FIRST_PORT + 123}`);
    await page
      .locator("tr[data-service]")
      .filter({ hasNot: page.locator(`[data-service="TCP ${BIG_VIP}:${BIG_FIRST_PORT + 123}"]`) })
      .first()
      .waitFor({ state: "detached" })
      .catch(() => undefined);
    await page.waitForFunction(
      (only) =>
        [...document.querySelectorAll("tr[data-service]")].every(
          (r) => r.getAttribute("data-service") === only,
        ),
      `TCP ${BIG_VIP}:${BIG_FIRST_PORT + 123}`,
    );
    filterMs = performance.now() - t;
    await filter.fill("");
    await page.locator(`tr[data-realserver][data-service="${LAST_SERVICE}"]`).first().waitFor();
  }
  console.log(
    `   collapse + expand state shown: ${collapseMs.toFixed(0)} ms; filter to one service: ${filterMs === null ? "no filter box" : `${filterMs.toFixed(0)} ms`}`,
  );

  const heap0 = await heapMb(page);
  const profile = process.argv.includes("--profile");
  await browser.startTracing(page, {
    categories: ["toplevel", "blink.user_timing", ...(profile ? ["devtools.timeline"] : [])],
  });
  await page.waitForTimeout(minutes * 60_000);
  const trace = await browser.stopTracing();
  const heap1 = await heapMb(page);
  const work = workPerPush(trace.toString("utf8"), MARK);
  if (profile) console.log(mainThreadByEvent(trace.toString("utf8"), MARK, 25));
  console.log(
    `   live updates: ${work.perPush.length} in ${minutes} min; main thread per update p50 ${percentile(work.perPush, 50)?.toFixed(1)} ms, p99 ${percentile(work.perPush, 99)?.toFixed(1)} ms`,
  );
  console.log(
    `   JS heap after GC: ${heap0.toFixed(1)} MB -> ${heap1.toFixed(1)} MB (${(heap1 - heap0).toFixed(1)} MB)`,
  );

  // The realserver page for the realserver in 20 services.
  t = performance.now();
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
    bigDirectorUpdateP50Ms: percentile(work.perPush, 50),
    bigDirectorUpdateP99Ms: percentile(work.perPush, 99),
    bigDirectorUpdates: work.perPush.length,
    bigDirectorHeapGrowthMb: heap1 - heap0,
    bigDirectorCollapseMs: collapseMs,
    bigDirectorFilterMs: filterMs,
    bigDirectorRealserverPageMs: realserverMs,
  };
}
