import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "@/server/db";
import { FailureLimiter } from "./rate-limit";
import {
  createSession,
  deleteUserSessions,
  findSession,
  hashToken,
  pruneSessions,
} from "./sessions";

const LIMITS = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };
let db: Db;

beforeEach(() => {
  db = openDb(":memory:");
});
afterEach(() => db.close());

describe("sessions", () => {
  it("stores only the SHA-256 of the token", () => {
    const { token, tokenHash } = createSession(
      db,
      { user: "alice", credential: "c1", remoteAddress: "127.0.0.1" },
      1000,
    );
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(tokenHash).toBe(hashToken(token));
    const rows = db.prepare("SELECT * FROM sessions").all();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(findSession(db, token, LIMITS, 2000)?.user).toBe("alice");
  });

  it("ends after the idle time without requests", () => {
    const { token } = createSession(db, { user: "alice", credential: "c", remoteAddress: null }, 0);
    expect(findSession(db, token, LIMITS, 29 * 60_000)).not.toBeNull(); // refreshes last_seen
    expect(findSession(db, token, LIMITS, 58 * 60_000)).not.toBeNull();
    expect(findSession(db, token, LIMITS, 58 * 60_000 + LIMITS.idleMs)).toBeNull();
    expect(db.prepare("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 0 });
  });

  it("ends at the absolute limit even when used all along", () => {
    const { token } = createSession(db, { user: "alice", credential: "c", remoteAddress: null }, 0);
    let now = 0;
    while (now < LIMITS.absoluteMs - 10 * 60_000) {
      now += 10 * 60_000;
      expect(findSession(db, token, LIMITS, now)).not.toBeNull();
    }
    expect(findSession(db, token, LIMITS, LIMITS.absoluteMs)).toBeNull();
  });

  it("ignores malformed and unknown tokens", () => {
    expect(findSession(db, "", LIMITS)).toBeNull();
    expect(findSession(db, "' OR 1=1 --", LIMITS)).toBeNull();
    expect(findSession(db, "A".repeat(43), LIMITS)).toBeNull();
  });

  it("prunes expired sessions and ends all of a user's sessions", () => {
    createSession(db, { user: "old", credential: "c", remoteAddress: null }, 0);
    const { token } = createSession(
      db,
      { user: "bob", credential: "c", remoteAddress: null },
      LIMITS.idleMs,
    );
    createSession(db, { user: "bob", credential: "c", remoteAddress: null }, LIMITS.idleMs);
    expect(pruneSessions(db, LIMITS, LIMITS.idleMs + 1)).toBe(1);
    expect(deleteUserSessions(db, "bob")).toBe(2);
    expect(findSession(db, token, LIMITS, LIMITS.idleMs + 2)).toBeNull();
  });
});

describe("failed sign-in limiter", () => {
  it("allows 5 failures per 15 minutes per key", () => {
    const limiter = new FailureLimiter();
    for (let i = 0; i < 5; i++) {
      expect(limiter.retryAfterMs("alice", i)).toBe(0);
      limiter.fail("alice", i);
    }
    expect(limiter.retryAfterMs("alice", 10)).toBeGreaterThan(14 * 60_000);
    expect(limiter.retryAfterMs("bob", 10)).toBe(0);
    expect(limiter.retryAfterMs("alice", 15 * 60_000 + 1)).toBe(0);
    limiter.fail("alice", 20);
    limiter.reset("alice");
    expect(limiter.retryAfterMs("alice", 21)).toBe(0);
  });
});
