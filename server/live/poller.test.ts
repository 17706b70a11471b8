import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConsoleError } from "@/server/errors";
import { DirectorPoller, PollerRegistry, type PollerOptions, type SnapshotReader } from "./poller";
import type { DirectorSnapshot, DirectorStatus } from "./types";
import { testDirector } from "@/test/support/director";

const director = testDirector;

/** A fake director: counts reads, answers after `latencyMs`, fails while `down` is set. */
function fakeReader(latencyMs = 100) {
  const state = { reads: 0, down: false as false | string };
  const read: SnapshotReader = (d, { signal }) =>
    new Promise<DirectorSnapshot>((resolve, reject) => {
      state.reads++;
      const timer = setTimeout(() => {
        if (state.down) reject(new ConsoleError("UNREACHABLE", state.down, { directorId: d.id }));
        else
          resolve({
            directorId: d.id,
            clusterId: d.clusterId,
            version: "v1",
            takenAt: Date.now(),
            services: [],
            sysctls: {},
            ipvsadm: null,
            timeouts: null,
            connectionCount: state.reads,
          });
      }, latencyMs);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });
  return { state, read };
}

function options(read: SnapshotReader, extra: Partial<PollerOptions> = {}): PollerOptions {
  return { intervalMs: 2000, retry: { baseMs: 2000, maxMs: 30_000 }, read, ...extra };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DirectorPoller", () => {
  it("polls once per interval however many subscribers watch (fan-out)", async () => {
    const one = fakeReader();
    const single = new DirectorPoller(director, options(one.read));
    const seenBySingle: DirectorStatus[] = [];
    const offSingle = single.subscribe((s) => seenBySingle.push(s));

    const many = fakeReader();
    const shared = new DirectorPoller(director, options(many.read));
    const seen = Array.from({ length: 50 }, () => [] as DirectorStatus[]);
    const offs = seen.map((list) => shared.subscribe((s) => list.push(s)));

    await vi.advanceTimersByTimeAsync(10_050);
    expect(one.state.reads).toBe(6); // at 0, 2, 4, 6, 8, 10 s
    expect(many.state.reads).toBe(one.state.reads);
    expect(seen.every((list) => list.length === seenBySingle.length)).toBe(true);
    // every subscriber gets the very same status object: no per-subscriber work at all
    expect(seen[0]?.[2]).toBe(seen[49]?.[2]);
    offSingle();
    offs.forEach((off) => off());
  });

  it("starts with the first subscriber and stops after the last leaves", async () => {
    const fake = fakeReader();
    const poller = new DirectorPoller(director, options(fake.read));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.state.reads).toBe(0);
    const a = poller.subscribe(() => undefined);
    const b = poller.subscribe(() => undefined);
    await vi.advanceTimersByTimeAsync(4100);
    expect(fake.state.reads).toBe(3);
    a();
    await vi.advanceTimersByTimeAsync(2000);
    expect(fake.state.reads).toBe(4);
    b();
    expect(poller.running).toBe(false);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(fake.state.reads).toBe(4);
  });

  it("marks the director unreachable, keeps the last snapshot, backs off 2, 4, 8 s and recovers by itself", async () => {
    const fake = fakeReader();
    const poller = new DirectorPoller(director, options(fake.read));
    const seen: DirectorStatus[] = [];
    const off = poller.subscribe((s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(150);
    expect(seen.at(-1)?.reachability).toBe("live");
    const good = seen.at(-1)?.snapshot;

    fake.state.down = "connect ECONNREFUSED";
    const readsBefore = fake.state.reads;
    const at: number[] = [];
    const offAt = poller.subscribe(() => at.push(Date.now()));
    await vi.advanceTimersByTimeAsync(2000 + 2000 + 4000 + 8000 + 500);
    const failed = seen.filter((s) => s.reachability === "unreachable");
    expect(failed.length).toBe(fake.state.reads - readsBefore);
    expect(failed[0]).toMatchObject({
      reachability: "unreachable",
      error: { code: "UNREACHABLE", message: "connect ECONNREFUSED" },
      snapshot: good,
      lastSuccessAt: good?.takenAt,
    });
    // gaps between the failed attempts: 2 s, 4 s, 8 s (+ the 100 ms each read takes)
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    expect(gaps.slice(0, 3)).toEqual([2100, 4100, 8100]);
    expect(failed[1]?.nextRetryAt).toBe((at[1] ?? 0) + 4000);

    fake.state.down = false;
    await vi.advanceTimersByTimeAsync(16_100);
    expect(seen.at(-1)).toMatchObject({ reachability: "live", error: null, nextRetryAt: null });
    expect(seen.at(-1)?.snapshot).not.toBe(good);
    off();
    offAt();
  });

  it("caps the retry interval at 30 s", async () => {
    const fake = fakeReader(50);
    fake.state.down = "down";
    const poller = new DirectorPoller(director, options(fake.read));
    const at: number[] = [];
    const off = poller.subscribe(() => at.push(Date.now()));
    await vi.advanceTimersByTimeAsync(200_000);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // each gap is the backoff plus the 50 ms the failing read takes
    expect(gaps.slice(0, 6)).toEqual([2050, 4050, 8050, 16_050, 30_050, 30_050]);
    off();
  });

  it("ignores a poll that finishes after everyone left", async () => {
    const fake = fakeReader(500);
    const poller = new DirectorPoller(director, options(fake.read));
    const seen: DirectorStatus[] = [];
    const off = poller.subscribe((s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100);
    off();
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual([]);
    expect(poller.current().reachability).toBe("connecting");
  });

  it("answers a one-off status with a poll of its own when nobody watches, sharing concurrent calls", async () => {
    const fake = fakeReader();
    const poller = new DirectorPoller(director, options(fake.read));
    const a = poller.pollOnce();
    const b = poller.pollOnce();
    await vi.advanceTimersByTimeAsync(150);
    expect((await a).reachability).toBe("live");
    expect(await b).toBe(await a);
    expect(fake.state.reads).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.state.reads).toBe(1);
  });

  it("passes the previous snapshot to the reader, for rates", async () => {
    const previous: Array<DirectorSnapshot | null> = [];
    const fake = fakeReader(10);
    const poller = new DirectorPoller(
      director,
      options((d, o) => {
        previous.push(o.previous);
        return fake.read(d, o);
      }),
    );
    const off = poller.subscribe(() => undefined);
    await vi.advanceTimersByTimeAsync(2100);
    expect(previous[0]).toBeNull();
    expect(previous[1]?.connectionCount).toBe(1);
    off();
  });

  it("keeps the director's slot in the interval: after the first poll, and after a late one", async () => {
    const startedAt: number[] = [];
    const late: Array<number | null> = [];
    const fast = fakeReader(100);
    const slow = fakeReader(2300);
    let reader = fast;
    const poller = new DirectorPoller(
      director,
      options(
        (d, o) => {
          startedAt.push(Date.now());
          return reader.read(d, o);
        },
        {
          phaseMs: (id, interval) => (id === director.id && interval === 2000 ? 700 : 0),
          onPoll: (e) => late.push(e.lateMs),
        },
      ),
    );
    const off = poller.subscribe(() => undefined);
    await vi.advanceTimersByTimeAsync(4800);
    // The first poll at once (1_000_000); then on the slot, 700 ms after each 2 s.
    expect(startedAt).toEqual([1_000_000, 1_002_700, 1_004_700]);
    // Slower than the interval: each next poll follows at once (a 0 ms timer: 1 ms here),
    // late against its slot (1_008_700, then 1_010_700), not against its own start.
    reader = slow;
    await vi.advanceTimersByTimeAsync(6600);
    expect(startedAt.slice(3)).toEqual([1_006_700, 1_009_001, 1_011_302]);
    expect(late).toEqual([null, 0, 0, 0, 301]);
    off();
  });
});

describe("PollerRegistry", () => {
  it("keeps one poller per director id", () => {
    const fake = fakeReader();
    const registry = new PollerRegistry(() => options(fake.read));
    expect(registry.poller(director)).toBe(registry.poller(director));
    expect(registry.find("lab1")).toBe(registry.poller(director));
    expect(registry.find("other")).toBeUndefined();
  });

  it("follow: a late watcher gets the current status at once, and the poll stays shared", async () => {
    const fake = fakeReader();
    const registry = new PollerRegistry(() => options(fake.read));
    const first: DirectorStatus[] = [];
    const offFirst = registry.follow(director, (s) => first.push(s));
    expect(first).toEqual([]); // nothing polled yet: nothing to tell
    await vi.advanceTimersByTimeAsync(2150);
    const late: DirectorStatus[] = [];
    const offLate = registry.follow(director, (s) => late.push(s));
    expect(late).toEqual([first.at(-1)]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(fake.state.reads).toBe(3);
    expect(late.at(-1)).toBe(first.at(-1));
    offFirst();
    offLate();
  });
});

describe("a poller restarted after idling", () => {
  it("shows the old snapshot as stale, with its age, until a fresh poll lands", async () => {
    const fake = fakeReader();
    const registry = new PollerRegistry(() => options(fake.read));
    const off = registry.follow(director, () => undefined);
    await vi.advanceTimersByTimeAsync(150);
    const before = registry.poller(director).current();
    expect(before).toMatchObject({ reachability: "live", lastSuccessAt: 1_000_100 });
    off();
    // Nobody watches: whoever reads the status meanwhile does not see it as live either.
    expect(registry.poller(director).current().reachability).toBe("stale");
    await vi.advanceTimersByTimeAsync(60_000);

    const seen: DirectorStatus[] = [];
    const again = registry.follow(director, (s) => seen.push(s));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ reachability: "stale", error: null });
    expect(seen[0]?.snapshot).toBe(before.snapshot);
    // Its age: the time of the last good poll, a minute ago.
    expect(Date.now() - (seen[0]?.lastSuccessAt ?? 0)).toBe(60_050);

    // A one-off status asked for now waits for the fresh poll instead of the stale one.
    const fresh = registry.poller(director).pollOnce();
    await vi.advanceTimersByTimeAsync(100);
    expect(await fresh).toMatchObject({ reachability: "live", lastSuccessAt: 1_060_250 });
    expect(seen.at(-1)).toMatchObject({ reachability: "live", lastSuccessAt: 1_060_250 });
    again();
  });

  it("keeps a one-off poll's status for later readers as stale, not live", async () => {
    const fake = fakeReader();
    const poller = new DirectorPoller(director, options(fake.read));
    const once = poller.pollOnce();
    await vi.advanceTimersByTimeAsync(100);
    expect((await once).reachability).toBe("live");
    expect(poller.current()).toMatchObject({ reachability: "stale", lastSuccessAt: 1_000_100 });
  });
});
