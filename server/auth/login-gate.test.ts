import { describe, expect, it } from "vitest";
import { isRefusal, LOGIN_GATE, LoginGate, type Reservation } from "./login-gate";

const WINDOW = LOGIN_GATE.windowMs;

function reserved(gate: LoginGate, name: string, address: string, now: number): Reservation {
  const r = gate.reserve(name, address, now);
  if (isRefusal(r)) throw new Error(`refused: ${r.refused}`);
  return r;
}

describe("sign-in gate", () => {
  it("counts an attempt as failed the moment it is reserved", () => {
    const gate = new LoginGate();
    for (let i = 0; i < 4; i++) reserved(gate, "alice", "a", i).end("failed");
    // The fifth is still being checked, yet already counts: nothing more for this name.
    const fifth = reserved(gate, "alice", "a", 5);
    const next = gate.reserve("alice", "b", 6);
    expect(isRefusal(next) && next.refused).toBe("name-locked");
    fifth.end("failed");
  });

  it("allows one check at a time per name", () => {
    const gate = new LoginGate();
    const first = reserved(gate, "alice", "a", 0);
    const second = gate.reserve("alice", "b", 1);
    expect(isRefusal(second) && second.refused).toBe("name-busy");
    expect(isRefusal(gate.reserve("bob", "a", 1))).toBe(false);
    first.end("failed");
    expect(isRefusal(gate.reserve("alice", "b", 2))).toBe(false);
  });

  it("locks a name after 5 failures for the window, then lets it try again", () => {
    const gate = new LoginGate();
    for (let i = 0; i < 5; i++) reserved(gate, "alice", `10.0.0.${i}`, i).end("failed");
    const locked = gate.reserve("alice", "10.0.9.9", 10);
    expect(isRefusal(locked) && locked.retryAfterMs).toBeGreaterThan(WINDOW - 100);
    expect(isRefusal(gate.reserve("alice", "10.0.9.9", WINDOW + 5))).toBe(false);
  });

  it("takes the reservation back on success, and when no check happened", () => {
    const gate = new LoginGate();
    for (let i = 0; i < 4; i++) reserved(gate, "alice", "a", i).end("failed");
    reserved(gate, "alice", "a", 5).end("succeeded");
    for (let i = 0; i < 4; i++) reserved(gate, "alice", "a", 10 + i).end("not-checked");
    // Success forgot the 4 failures; the unchecked ones never counted.
    for (let i = 0; i < 4; i++) reserved(gate, "alice", "a", 20 + i).end("failed");
    expect(isRefusal(gate.reserve("alice", "a", 30))).toBe(false);
  });

  it("never locks an address: its failures delay it, doubling up to a cap", () => {
    const gate = new LoginGate();
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = reserved(gate, `name-${i}`, "203.0.113.9", i);
      delays.push(r.delayMs);
      r.end("failed");
    }
    expect(delays.slice(0, 3)).toEqual([0, 0, 0]);
    expect(delays.slice(3, 8)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(Math.max(...delays)).toBe(LOGIN_GATE.addressDelayMaxMs);
    // Another address is not slowed down by this one.
    expect(reserved(gate, "vera", "203.0.113.10", 20).delayMs).toBe(0);
  });

  it("bounds the checks running and waiting in the whole process", async () => {
    const gate = new LoginGate({ ...LOGIN_GATE, maxConcurrentChecks: 2, maxWaitingChecks: 1 });
    const a = await gate.acquireCheck();
    const b = await gate.acquireCheck();
    const waiting = gate.acquireCheck();
    expect(waiting).not.toBeNull();
    expect(gate.acquireCheck()).toBeNull();
    let granted = false;
    void waiting?.then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false);
    a?.();
    const c = await waiting;
    expect(granted).toBe(true);
    expect(gate.checksRunning).toBe(2);
    b?.();
    c?.();
    c?.();
    expect(gate.checksRunning).toBe(0);
  });
});
