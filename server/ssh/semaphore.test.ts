import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";
import { Semaphore } from "./semaphore";

const tick = () => new Promise((r) => setImmediate(r));

describe("Semaphore", () => {
  it("grants up to max slots at once and queues the rest in order", async () => {
    const s = new Semaphore(4);
    const releases = await Promise.all([s.acquire(), s.acquire(), s.acquire(), s.acquire()]);
    const order: number[] = [];
    const waiting = [5, 6, 7].map((n) => s.acquire().then((release) => (order.push(n), release)));
    await tick();
    expect({ inUse: s.inUse, queued: s.queued, order }).toEqual({ inUse: 4, queued: 3, order: [] });
    releases[0]?.();
    await tick();
    expect({ inUse: s.inUse, queued: s.queued, order }).toEqual({
      inUse: 4,
      queued: 2,
      order: [5],
    });
    releases[1]?.();
    releases[2]?.();
    const [r5, r6, r7] = await Promise.all(waiting);
    expect(order).toEqual([5, 6, 7]);
    [r5, r6, r7, releases[3]].forEach((r) => r?.());
    expect({ inUse: s.inUse, queued: s.queued }).toEqual({ inUse: 0, queued: 0 });
  });

  it("ignores a second release of the same slot", async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    release();
    release();
    expect(s.inUse).toBe(0);
    await s.acquire();
    expect(s.inUse).toBe(1);
  });

  it("gives up a place in the queue when the wait is aborted", async () => {
    const s = new Semaphore(1);
    const first = await s.acquire();
    const controller = new AbortController();
    const aborted = s.acquire(controller.signal);
    const next = s.acquire();
    expect(s.queued).toBe(2);
    controller.abort(new Error("timed out"));
    await expect(aborted).rejects.toThrow("timed out");
    expect(s.queued).toBe(1);
    first();
    const release = await next;
    expect(s.inUse).toBe(1);
    release();
    expect(s.inUse).toBe(0);
  });

  it("refuses at once with an aborted signal", async () => {
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(new Semaphore(1).acquire(controller.signal)).rejects.toThrow("cancelled");
  });
});

describe("backoffDelay", () => {
  it("doubles from the base up to the cap", () => {
    const policy = { baseMs: 2000, maxMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, policy))).toEqual([
      0, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, { baseMs: 1000, maxMs: 30_000 }))).toEqual([
      1000, 2000, 4000,
    ]);
  });
});
