import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { hottestFunctions } from "./measure";
/**
 * Runs in the tab (page.addInitScript) before the app: every SSE message is marked for the
 * trace (performance.mark(mark), measure.ts workPerPush) and, when its data starts with the
 * push's `at` (ms since epoch, the server's clock = this host's), its latency is kept in
 * window.__pushes, its size (characters) in window.__pushChars.
 */
export function markPushes(mark: string): void {
  const w = window as unknown as {
    __pushes: number[];
    __pushChars: number[];
    EventSource: typeof EventSource;
  };
  w.__pushes = [];
  w.__pushChars = [];
  const Original = w.EventSource;
  w.EventSource = class extends Original {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      performance.mark(`${mark}:open`);
      this.addEventListener("message", (e: MessageEvent<string>) => {
        performance.mark(mark);
        const at = /"at":(\d{13})/.exec(e.data.slice(0, 200));
        if (!at) return;
        w.__pushes.push(Date.now() - Number(at[1]));
        w.__pushChars.push(e.data.length);
      });
    }
  };
}

/**
 * Starts the tab's JS profiler; the returned function stops it, writes the profile (.cpuprofile,
 * for Chromium's devtools) to the temp folder and names the hottest code.
 */
export async function startProfile(page: Page): Promise<() => Promise<string>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  return async () => {
    const { profile } = await cdp.send("Profiler.stop");
    await cdp.detach();
    const file = join(tmpdir(), `lvs-bench-tab-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return `${hottestFunctions(profile, 20)}\n  profile: ${file}`;
  };
}
