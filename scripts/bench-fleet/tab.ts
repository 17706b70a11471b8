import type { Page } from "@playwright/test";
import { hottestFunctions } from "./measure";
/**
 * Runs in the tab (page.addInitScript) before the app: every SSE message is marked for the
 * trace (performance.mark(mark), measure.ts workPerPush) and, when its data starts with the
 * push's `at` (ms since epoch, the server's clock = this host's), its latency is kept in
 * window.__pushes.
 */
export function markPushes(mark: string): void {
  const w = window as unknown as { __pushes: number[]; EventSource: typeof EventSource };
  w.__pushes = [];
  const Original = w.EventSource;
  w.EventSource = class extends Original {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      performance.mark(`${mark}:open`);
      this.addEventListener("message", (e: MessageEvent<string>) => {
        performance.mark(mark);
        const at = /"at":(\d{13})/.exec(e.data.slice(0, 200));
        if (at) w.__pushes.push(Date.now() - Number(at[1]));
      });
    }
  };
}

/** Starts the tab's JS profiler; the returned function stops it and names the hottest code. */
export async function startProfile(page: Page): Promise<() => Promise<string>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  return async () => {
    const { profile } = await cdp.send("Profiler.stop");
    await cdp.detach();
    return hottestFunctions(profile, 20);
  };
}
