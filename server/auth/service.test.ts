import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "@/server/db";
import { isConsoleError } from "@/server/errors";
import { markPeerHookInstalled, PEER_HEADER } from "./http";
import { hashPassword } from "./password";
import { authConfigSchema, usersSchema, type AuthConfig, type ConsoleUser } from "./schema";
import { identify, login, LOGIN_FAILED, resetLoginLimits, type AuthDeps } from "./service";

const FAST = { N: 1024, r: 8, p: 1 };
let users: ConsoleUser[];
let auth: AuthConfig;
let db: Db;
let now: number;
const deps: AuthDeps = { config: () => ({ users, auth }), db: () => db, now: () => now };

beforeAll(async () => {
  markPeerHookInstalled();
  users = usersSchema.parse([
    { name: "alice", role: "operator", passwordHash: await hashPassword("alice-password", FAST) },
    { name: "vera", role: "viewer", passwordHash: await hashPassword("vera-password", FAST) },
    { name: "proxyonly", role: "admin" },
  ]);
});
beforeEach(() => {
  db = openDb(":memory:");
  now = 1_000_000;
  auth = authConfigSchema.parse({});
  resetLoginLimits();
});
afterEach(() => db.close());

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (isConsoleError(e)) return { code: e.code, message: e.message, details: e.details };
    throw e;
  }
  throw new Error("expected a failure");
}

const cookieHeaders = (token: string, extra: Record<string, string> = {}) =>
  new Headers({ cookie: `lvs_session=${token}`, [PEER_HEADER]: "192.0.2.1", ...extra });

describe("sign-in", () => {
  it("gives a session whose cookie identifies the user with the config's role", async () => {
    const result = await login(
      { name: "alice", password: "alice-password", remoteAddress: "192.0.2.1" },
      deps,
    );
    expect(result.user).toEqual({ name: "alice", role: "operator" });
    expect(result.maxAgeSeconds).toBe(12 * 3600);
    const who = identify(cookieHeaders(result.token), deps);
    expect(who).toEqual({
      user: { name: "alice", role: "operator" },
      sessionId: result.sessionId,
      remoteAddress: "192.0.2.1",
    });
  });

  it("says the same for a wrong password, an unknown user and a proxy-only user", async () => {
    const wrong = await failure(
      login({ name: "alice", password: "nope", remoteAddress: "a" }, deps),
    );
    const unknown = await failure(
      login({ name: "mallory", password: "nope", remoteAddress: "b" }, deps),
    );
    const noHash = await failure(
      login({ name: "proxyonly", password: "nope", remoteAddress: "c" }, deps),
    );
    for (const f of [wrong, unknown, noHash])
      expect(f).toEqual({ code: "UNAUTHORIZED", message: LOGIN_FAILED, details: {} });
  });

  it("takes similar time for unknown and known users", async () => {
    const time = async (name: string) => {
      const t = performance.now();
      await failure(login({ name, password: "nope", remoteAddress: name }, deps));
      return performance.now() - t;
    };
    await time("warm-up");
    const unknown = await time("mallory");
    // The dummy check uses the default (slow) cost, so an unknown name is never the fast path.
    const known = await time("alice");
    expect(unknown).toBeGreaterThanOrEqual(known * 0.5);
  });

  it("locks a name after 5 failures, even from other addresses, then recovers", async () => {
    for (let i = 0; i < 5; i++)
      await failure(login({ name: "alice", password: "x", remoteAddress: `10.0.0.${i}` }, deps));
    const limited = await failure(
      login({ name: "alice", password: "alice-password", remoteAddress: "10.0.1.1" }, deps),
    );
    expect(limited.code).toBe("RATE_LIMITED");
    expect(limited.message).toMatch(/too many/);
    now += 15 * 60_000 + 1;
    await expect(
      login({ name: "alice", password: "alice-password", remoteAddress: "10.0.1.1" }, deps),
    ).resolves.toBeTruthy();
  });

  it("locks an address after 5 failures across names, known or not", async () => {
    for (const name of ["a", "b", "alice", "c", "d"]) {
      await failure(login({ name, password: "x", remoteAddress: "203.0.113.9" }, deps));
    }
    const limited = await failure(
      login({ name: "vera", password: "vera-password", remoteAddress: "203.0.113.9" }, deps),
    );
    expect(limited.code).toBe("RATE_LIMITED");
    await expect(
      login({ name: "vera", password: "vera-password", remoteAddress: "203.0.113.10" }, deps),
    ).resolves.toBeTruthy();
  });
});

describe("sessions follow the config", () => {
  it("ends when the user is removed or the password changes, and takes a new role at once", async () => {
    const { token } = await login(
      { name: "alice", password: "alice-password", remoteAddress: null },
      deps,
    );
    const original = users;
    users = original.map((u) => (u.name === "alice" ? { ...u, role: "viewer" as const } : u));
    expect(identify(cookieHeaders(token), deps).user?.role).toBe("viewer");
    users = usersSchema.parse([
      {
        name: "alice",
        role: "operator",
        passwordHash: await hashPassword("changed-password", FAST),
      },
    ]);
    expect(identify(cookieHeaders(token), deps).user).toBeNull();
    users = original;
    expect(identify(cookieHeaders(token), deps).user).toBeNull();
  });

  it("honours configured idle minutes", async () => {
    auth = authConfigSchema.parse({ idleMinutes: 5, absoluteHours: 1 });
    const { token } = await login(
      { name: "vera", password: "vera-password", remoteAddress: null },
      deps,
    );
    now += 5 * 60_000;
    expect(identify(cookieHeaders(token), deps).user).toBeNull();
  });
});

describe("reverse-proxy header", () => {
  beforeEach(() => {
    auth = authConfigSchema.parse({
      proxyHeader: {
        header: "X-Remote-User",
        trustedProxies: ["127.0.0.1"],
        defaultRole: "viewer",
      },
    });
  });
  const fromPeer = (peer: string, user: string) =>
    new Headers({ [PEER_HEADER]: peer, "x-remote-user": user });

  it("trusts the header only from the configured proxy", () => {
    expect(identify(fromPeer("127.0.0.1", "proxyonly"), deps).user).toEqual({
      name: "proxyonly",
      role: "admin",
    });
    expect(identify(fromPeer("::ffff:127.0.0.1", "alice"), deps).user).toEqual({
      name: "alice",
      role: "operator",
    });
    expect(identify(fromPeer("127.0.0.1", "someone"), deps).user).toEqual({
      name: "someone",
      role: "viewer",
    });
    expect(identify(fromPeer("192.0.2.50", "proxyonly"), deps).user).toBeNull();
    const spoofed = new Headers({
      [PEER_HEADER]: "192.0.2.50",
      "x-forwarded-for": "127.0.0.1",
      "x-remote-user": "alice",
    });
    expect(identify(spoofed, deps).user).toBeNull();
  });

  it("refuses odd names, and unknown users without a defaultRole", () => {
    expect(identify(fromPeer("127.0.0.1", "<script>alert(1)</script>"), deps).user).toBeNull();
    expect(identify(fromPeer("127.0.0.1", "a".repeat(65)), deps).user).toBeNull();
    auth = authConfigSchema.parse({
      proxyHeader: { header: "x-remote-user", trustedProxies: ["127.0.0.1"] },
    });
    expect(identify(fromPeer("127.0.0.1", "someone"), deps).user).toBeNull();
    expect(identify(fromPeer("127.0.0.1", "vera"), deps).user).toEqual({
      name: "vera",
      role: "viewer",
    });
  });
});
