import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SharedReads } from "./shared-reads";

const lvs1 = { id: "lvs1", clusterId: "web" };
const lvs2 = { id: "lvs2", clusterId: "web" };
const other = { id: "db1", clusterId: "db" };

/** A director whose read takes 100 ms and returns how many reads it has served. */
function fakeDirector() {
  const state = { reads: 0, fail: false };
  const read = (d: { id: string }) =>
    new Promise<string>((resolve, reject) => {
      state.reads++;
      const n = state.reads;
      setTimeout(() => (state.fail ? reject(new Error("down")) : resolve(`${d.id}#${n}`)), 100);
    });
  return { state, read };
}

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe("SharedReads (previews' reads)", () => {
  it("gives concurrent previews of a director one read", async () => {
    const fake = fakeDirector();
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 2000 });
    const previews = Array.from({ length: 20 }, () => reads.get(lvs1));
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(previews)).toEqual(Array(20).fill("lvs1#1"));
    expect(fake.state.reads).toBe(1);
    expect(reads.started).toBe(1);
  });

  it("reuses a read younger than the poll interval, and reads again after it", async () => {
    const fake = fakeDirector();
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 2000 });
    const first = reads.get(lvs1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await first).toBe("lvs1#1");
    await vi.advanceTimersByTimeAsync(1999); // 1999 ms after the read finished
    expect(await reads.get(lvs1)).toBe("lvs1#1");
    expect(fake.state.reads).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const later = reads.get(lvs1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await later).toBe("lvs1#2");
  });

  it("keeps directors apart", async () => {
    const fake = fakeDirector();
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 2000 });
    const both = Promise.all([reads.get(lvs1), reads.get(lvs2), reads.get(lvs1)]);
    await vi.advanceTimersByTimeAsync(100);
    expect(await both).toEqual(["lvs1#1", "lvs2#2", "lvs1#1"]);
  });

  it("with no reuse age (fakes), still shares the read that runs", async () => {
    const fake = fakeDirector();
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 0 });
    const both = Promise.all([reads.get(lvs1), reads.get(lvs1)]);
    await vi.advanceTimersByTimeAsync(100);
    expect(await both).toEqual(["lvs1#1", "lvs1#1"]);
    const next = reads.get(lvs1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await next).toBe("lvs1#2");
  });

  it("does not keep a failed read: the next preview tries again", async () => {
    const fake = fakeDirector();
    fake.state.fail = true;
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 2000 });
    const failing = Promise.all([reads.get(lvs1), reads.get(lvs1)]);
    const seen = failing.catch((e: unknown) => (e as Error).message);
    await vi.advanceTimersByTimeAsync(100);
    expect(await seen).toBe("down");
    expect(fake.state.reads).toBe(1);
    fake.state.fail = false;
    const again = reads.get(lvs1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await again).toBe("lvs1#2");
  });

  it("after a console change, reads afresh, and does not keep a read that ran across it", async () => {
    const fake = fakeDirector();
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 2000 });
    const before = Promise.all([reads.get(lvs1), reads.get(other)]);
    await vi.advanceTimersByTimeAsync(100);
    expect(await before).toEqual(["lvs1#1", "db1#2"]);
    reads.forget("web");
    const running = reads.get(lvs1);
    reads.forget("web"); // the change ran while that read did
    const after = reads.get(lvs1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await running).toBe("lvs1#3");
    expect(await after).toBe("lvs1#4");
    // The other cluster's read is still fresh enough.
    expect(await reads.get(other)).toBe("db1#2");
    expect(await reads.get(lvs1)).toBe("lvs1#4");
  });

  it("starts over for a reloaded config's director", async () => {
    const fake = fakeDirector();
    const reads = new SharedReads({ read: fake.read, maxAgeMs: () => 2000 });
    const first = reads.get(lvs1);
    await vi.advanceTimersByTimeAsync(100);
    await first;
    const reloaded = reads.get({ ...lvs1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(await reloaded).toBe("lvs1#2");
  });
});
