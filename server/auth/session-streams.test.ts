/**
 * The scheduling of SessionStream: when a stream notices that its session ended. The session
 * store is a map of end times here; test/integration/session-streams.int.test.ts runs the
 * real one behind the real router.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  endSessionStreams,
  openSessionStreams,
  SessionStream,
  type SessionStreamDeps,
} from "./session-streams";

let endsAt: Map<string, number | null>;
let checks: number;
const deps: SessionStreamDeps = {
  endsAt: (id) => {
    checks++;
    return endsAt.get(id) ?? null;
  },
  now: () => Date.now(),
  recheckMs: 30_000,
};

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  endsAt = new Map([
    ["alice", 1_000_000 + 600_000],
    ["bob", 1_000_000 + 600_000],
  ]);
  checks = 0;
});
afterEach(() => vi.useRealTimers());

describe("SessionStream", () => {
  it("ends when the session expires, with UNAUTHORIZED, re-checking at most every recheckMs", async () => {
    const stream = new SessionStream("alice", undefined, deps);
    await vi.advanceTimersByTimeAsync(599_999);
    expect(stream.signal.aborted).toBe(false);
    expect(checks).toBe(1 + 19); // at the start, then every 30 s
    await vi.advanceTimersByTimeAsync(1);
    expect(stream.signal.aborted).toBe(true);
    expect(stream.ended).toMatchObject({
      code: "UNAUTHORIZED",
      details: { reason: "session-ended" },
    });
    expect(stream.signal.reason).toBe(stream.ended);
    expect(openSessionStreams("alice")).toBe(0);
  });

  it("lives on when requests move the idle limit, and ends when the session disappears meanwhile", async () => {
    const stream = new SessionStream("alice", undefined, deps);
    await vi.advanceTimersByTimeAsync(500_000);
    endsAt.set("alice", 1_000_000 + 1_200_000);
    await vi.advanceTimersByTimeAsync(400_000);
    expect(stream.signal.aborted).toBe(false);
    // Removed by another process (npm run user -- remove): noticed at the next check.
    endsAt.set("alice", null);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(stream.ended?.code).toBe("UNAUTHORIZED");
  });

  it("check() before a push sees an ended session at once", () => {
    const stream = new SessionStream("alice", undefined, deps);
    expect(stream.check()).toBe(true);
    endsAt.set("alice", Date.now());
    expect(stream.check()).toBe(false);
    expect(stream.signal.aborted).toBe(true);
  });

  it("logout ends every stream of that session at once, and no other session's", () => {
    const a1 = new SessionStream("alice", undefined, deps);
    const a2 = new SessionStream("alice", undefined, deps);
    const b = new SessionStream("bob", undefined, deps);
    expect(openSessionStreams("alice")).toBe(2);
    endSessionStreams("alice");
    expect([a1.ended?.code, a2.ended?.code, b.ended]).toEqual([
      "UNAUTHORIZED",
      "UNAUTHORIZED",
      null,
    ]);
    expect(b.signal.aborted).toBe(false);
    expect(openSessionStreams("alice")).toBe(0);
    b.dispose();
    expect(openSessionStreams("bob")).toBe(0);
  });

  it("ends quietly when the caller leaves, and stops watching the session", async () => {
    const caller = new AbortController();
    const stream = new SessionStream("alice", caller.signal, deps);
    caller.abort();
    expect(stream.signal.aborted).toBe(true);
    expect(stream.ended).toBeNull();
    expect(openSessionStreams("alice")).toBe(0);
    const before = checks;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(checks).toBe(before);
  });

  it("ends an already expired session's stream before it starts", () => {
    endsAt.set("alice", null);
    const stream = new SessionStream("alice", undefined, deps);
    expect(stream.ended?.code).toBe("UNAUTHORIZED");
    expect(openSessionStreams("alice")).toBe(0);
  });
});
