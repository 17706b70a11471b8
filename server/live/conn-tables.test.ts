import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConsoleError, isConsoleError } from "@/server/errors";
import { parseConnTable, type ConnTable } from "@/server/ipvs/parse/conn-table";
import { ConnTables, DirectorTable, memoOnRead, type ConnTablesOptions } from "./conn-tables";
import { testDirector } from "@/test/support/director";

const director = testDirector;

const TITLE = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires";
/** A table of `n` entries. */
const tableOf = (n: number): ConnTable =>
  parseConnTable(
    [
      TITLE,
      ...Array.from({ length: n }, () => "UDP CB007167 88C1 CB00710A 0035 0A0A000B 0035 UDP 277"),
    ].join("\n"),
  );

/** A fake director whose table read takes `state.readMs` and holds one more entry each time. */
function fakeReader() {
  const state = { reads: 0, readMs: 100, down: false, aborted: 0 };
  const read: ConnTablesOptions["read"] = (d, signal) =>
    new Promise<ConnTable>((resolve, reject) => {
      state.reads++;
      const n = state.reads;
      const timer = setTimeout(() => {
        if (state.down) reject(new ConsoleError("UNREACHABLE", "down", { directorId: d.id }));
        else resolve(tableOf(n));
      }, state.readMs);
      signal.addEventListener("abort", () => {
        state.aborted++;
        clearTimeout(timer);
        reject(new ConsoleError("TIMEOUT", "aborted"));
      });
    });
  return { state, read };
}

function options(read: ConnTablesOptions["read"]): ConnTablesOptions {
  return {
    read,
    minIntervalMs: 2000,
    costFactor: 4,
    maxIntervalMs: 120_000,
    leaseMs: 20_000,
    pinMs: 600_000,
    maxPinnedReads: 4,
    maxPinsPerUser: 2,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DirectorTable", () => {
  it("reads once for the first viewer and answers later ones from that read", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const first = t.get();
    const second = t.get();
    await vi.advanceTimersByTimeAsync(100);
    expect((await first).id).toBe(1);
    expect((await second).id).toBe(1);
    expect(fake.state.reads).toBe(1);
    // Many more queries before the next read: still no read of their own.
    for (let i = 0; i < 50; i++) expect((await t.get()).table.size).toBe(1);
    expect(fake.state.reads).toBe(1);
    t.close();
  });

  it("paces reads by their cost: at least costFactor x the read time, never below the interval", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const keepWatching = setInterval(() => void t.get(), 1000);
    const first = t.get();
    await vi.advanceTimersByTimeAsync(100);
    expect(t.status(await first).nextReadAt).toBe(Date.now() + 2000); // 4 x 100 ms < 2 s
    await vi.advanceTimersByTimeAsync(2000 + 100);
    expect(fake.state.reads).toBe(2);

    // A big table: 17 s to read, so the next read starts 68 s after it ends.
    fake.state.readMs = 17_000;
    await vi.advanceTimersByTimeAsync(2000); // the third read starts
    expect(fake.state.reads).toBe(3);
    await vi.advanceTimersByTimeAsync(17_000);
    const read = await t.get();
    expect(read).toMatchObject({ id: 3, readMs: 17_000 });
    expect(t.status(read)).toMatchObject({ reading: false, nextReadAt: Date.now() + 68_000 });
    await vi.advanceTimersByTimeAsync(67_000);
    expect(fake.state.reads).toBe(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.state.reads).toBe(4);
    expect(t.status(await t.get()).reading).toBe(true);
    // While the fourth read runs, queries get the third at once.
    expect((await t.get()).id).toBe(3);
    clearInterval(keepWatching);
    t.close();
    expect(fake.state.aborted).toBe(1);
  });

  it("stops reading when nobody asked for the lease, and reads again for the next viewer", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const first = t.get();
    await vi.advanceTimersByTimeAsync(100);
    await first;
    await vi.advanceTimersByTimeAsync(60_000);
    // 20 s of lease: reads at 2.1 s, 4.2 s, ... up to 20 s, then none.
    const reads = fake.state.reads;
    expect(reads).toBeGreaterThan(5);
    expect(reads).toBeLessThan(12);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.state.reads).toBe(reads);
    expect(t.active).toBe(false);
    // The old read was let go: the next viewer waits for a fresh one.
    const again = t.get();
    await vi.advanceTimersByTimeAsync(100);
    expect((await again).id).toBe(reads + 1);
    t.close();
  });

  it("keeps a pinned read for a paused viewer while newer reads come and go", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const keepWatching = setInterval(() => void t.get(), 1000);
    const first = t.get();
    await vi.advanceTimersByTimeAsync(100);
    const pinned = await first;
    expect((await t.get(pinned.id)).id).toBe(pinned.id);
    await vi.advanceTimersByTimeAsync(30_000);
    expect((await t.get()).id).toBeGreaterThan(pinned.id + 5);
    expect(await t.get(pinned.id)).toBe(pinned);

    // A read that was neither pinned nor one of the last two is gone, with a code to act on.
    const error = await t.get(pinned.id + 1).catch((e: unknown) => e);
    expect(isConsoleError(error, "NOT_FOUND")).toBe(true);
    expect((error as ConsoleError).details).toMatchObject({ readId: pinned.id + 1 });

    // A pin lapses 10 minutes after its last use.
    clearInterval(keepWatching);
    await vi.advanceTimersByTimeAsync(600_001);
    expect(isConsoleError(await t.get(pinned.id).catch((e: unknown) => e), "NOT_FOUND")).toBe(true);
    t.close();
  });

  it("reports a failed read, backs off, and keeps answering from the last good read", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const keepWatching = setInterval(() => void t.get(), 1000);
    const first = t.get();
    await vi.advanceTimersByTimeAsync(100);
    const good = await first;
    fake.state.down = true;
    await vi.advanceTimersByTimeAsync(2100);
    const after = await t.get();
    expect(after).toBe(good);
    expect(t.status(after).error).toEqual({ code: "UNREACHABLE", message: "down" });
    // Backoff: 4 s, then 8 s, ... (capped at maxIntervalMs).
    expect(t.status(after).nextReadAt).toBe(Date.now() + 4000);
    await vi.advanceTimersByTimeAsync(4100);
    expect(t.status(await t.get()).nextReadAt).toBe(Date.now() + 8000);
    fake.state.down = false;
    await vi.advanceTimersByTimeAsync(8100);
    const back = await t.get();
    expect(back.id).toBeGreaterThan(good.id);
    expect(t.status(back).error).toBeNull();
    clearInterval(keepWatching);
    t.close();
  });

  it("fails a first view with the director's error, then waits out the backoff", async () => {
    const fake = fakeReader();
    fake.state.down = true;
    const t = new DirectorTable(director, options(fake.read));
    const first = t.get().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(isConsoleError(await first, "UNREACHABLE")).toBe(true);
    // Asking again during the backoff answers with the same error and reads nothing.
    expect(isConsoleError(await t.get().catch((e: unknown) => e), "UNREACHABLE")).toBe(true);
    expect(fake.state.reads).toBe(1);
    t.close();
  });

  it("Read now joins a running read and keeps the pacing by cost", async () => {
    const fake = fakeReader();
    fake.state.readMs = 1000; // the next scheduled read is 4 s after each read
    const t = new DirectorTable(director, options(fake.read));
    const first = t.get();
    const joined = t.refresh();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await joined).toBe(await first);
    expect((await t.refresh()).id).toBe(1);
    // Older than the poll interval but within the paced gap: a viewer pressing "Read now"
    // again and again cannot make an expensive table be read back to back.
    await vi.advanceTimersByTimeAsync(2500);
    for (let i = 0; i < 10; i++) expect((await t.refresh()).id).toBe(1);
    expect(fake.state.reads).toBe(1);
    await vi.advanceTimersByTimeAsync(1500); // the paced read starts, and Read now joins it
    expect(fake.state.reads).toBe(2);
    const joinedAgain = t.refresh();
    await vi.advanceTimersByTimeAsync(1000);
    expect((await joinedAgain).id).toBe(2);
    expect(fake.state.reads).toBe(2);
    t.close();
  });

  it("caps pinned reads per user (the oldest lets go) and per director, with when to retry", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const keepWatching = setInterval(() => void t.get(), 1000);
    const reads: number[] = [];
    const first = t.get();
    await vi.advanceTimersByTimeAsync(100);
    await first;
    for (let i = 0; i < 6; i++) {
      reads.push((await t.get()).id);
      // Pin each new read while it is the current one (a viewer pausing on it).
      if (i === 0) await t.get(reads[0], "ann");
      if (i === 1) await t.get(reads[1], "ann");
      if (i === 2) {
        // Ann's third pause (cap 2) lets go of her least recently used pin, the first read:
        // nobody else held it, so it is gone.
        expect((await t.get(reads[2], "ann")).id).toBe(reads[2]);
        const gone = await t.get(reads[0], "ann").catch((x: unknown) => x);
        expect(isConsoleError(gone, "NOT_FOUND")).toBe(true);
        // Others may share Ann's pins; a shared read counts once against the director.
        await t.get(reads[2], "bob");
        await t.get(reads[2], "cid");
      }
      if (i === 3) await t.get(reads[3], "bob");
      if (i === 4) await t.get(reads[4], "eve");
      if (i === 5) {
        // Four reads are pinned (1, 2, 3, 4): a fifth is refused for everyone.
        const e = await t.get(reads[5], "dan").catch((x: unknown) => x);
        expect(isConsoleError(e, "RATE_LIMITED")).toBe(true);
        expect((e as ConsoleError).details).toMatchObject({
          reason: "pins-per-director",
          directorId: director.id,
        });
        // The first of them lapses 10 minutes after its last use (Ann's, at the second read).
        expect((e as ConsoleError).details.retryAfterSeconds).toBeGreaterThan(590);
        // An already pinned read can still be joined.
        expect((await t.get(reads[1], "dan")).id).toBe(reads[1]);
      }
      await vi.advanceTimersByTimeAsync(2100); // the next read (2 s later, 100 ms long) lands
    }
    expect(new Set(reads).size).toBe(6);
    // The pins lapse after 10 minutes unused: then there is room again.
    await vi.advanceTimersByTimeAsync(600_001);
    const latest = await t.get();
    expect((await t.get(latest.id, "ann")).id).toBe(latest.id);
    clearInterval(keepWatching);
    t.close();
  });
  it("after close, a read still running neither keeps its table nor schedules another", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const first = t.get();
    await vi.advanceTimersByTimeAsync(100);
    await first;
    await vi.advanceTimersByTimeAsync(2000); // the second read starts
    expect(fake.state.reads).toBe(2);
    t.close();
    expect(fake.state.aborted).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.state.reads).toBe(2);
    expect(t.active).toBe(false);
  });
});

describe("memoOnRead", () => {
  it("computes a filter once per read and keeps the 8 most recent", async () => {
    const fake = fakeReader();
    const t = new DirectorTable(director, options(fake.read));
    const pending = t.get();
    await vi.advanceTimersByTimeAsync(100);
    const read = await pending;
    let computed = 0;
    const compute = () => ++computed;
    expect(memoOnRead(read, "a", compute)).toBe(1);
    expect(memoOnRead(read, "a", compute)).toBe(1);
    for (const key of ["b", "c", "d", "e", "f", "g", "h", "i"]) memoOnRead(read, key, compute);
    expect(read.memo.size).toBe(8);
    expect(read.memo.has("a")).toBe(false);
    t.close();
  });
});

describe("ConnTables", () => {
  it("keeps one table per director and starts over when the config brings a new object", () => {
    const tables = new ConnTables(() => options(fakeReader().read));
    const a = tables.table(director);
    expect(tables.table(director)).toBe(a);
    expect(tables.table({ ...director })).not.toBe(a);
    tables.closeAll();
  });
});
