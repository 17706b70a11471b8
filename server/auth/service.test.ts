import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "@/server/db";
import { isConsoleError } from "@/server/errors";
import { markPeerHookInstalled, PEER_HEADER, PEER_TLS_HEADER } from "./http";
import { LOGIN_GATE, LoginGate } from "./login-gate";
import { parsePasswordHash } from "@/server/config/password-hash";
import { hashPassword } from "./password";
import { effectivePasswordHash } from "./password-upgrades";
import {
  authConfigSchema,
  usersSchema,
  type AuthConfig,
  type ConsoleUser,
} from "@/server/config/users-schema";
import { identify, login, LOGIN_FAILED, resetLoginLimits, type AuthDeps } from "./service";

const FAST = { N: 1024, r: 8, p: 1 };
let users: ConsoleUser[];
let auth: AuthConfig;
let db: Db;
let now: number;
let slept: number[];
const deps: AuthDeps = {
  config: () => ({ users, auth }),
  db: () => db,
  now: () => now,
  hashParams: FAST,
  sleep: (ms) => {
    slept.push(ms);
    return Promise.resolve();
  },
};

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
  slept = [];
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
      secure: false,
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
    // The dummy check costs what a hash at the current cost costs; medians smooth out noise.
    const CURRENT = { N: 8192, r: 8, p: 1 };
    const timed: AuthDeps = { ...deps, hashParams: CURRENT };
    const original = users;
    users = usersSchema.parse([
      {
        name: "carol",
        role: "viewer",
        passwordHash: await hashPassword("carol-password", CURRENT),
      },
    ]);
    const median = async (name: string) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await failure(login({ name, password: "nope", remoteAddress: `${name}-${i}` }, timed));
        times.push(performance.now() - t);
      }
      return times.sort((x, y) => x - y)[1] ?? 0;
    };
    await median("warm-up");
    const unknown = await median("mallory");
    const known = await median("carol");
    users = original;
    expect(unknown).toBeGreaterThanOrEqual(known * 0.5);
    expect(known).toBeGreaterThanOrEqual(unknown * 0.5);
  });

  it("locks a name after 5 failures, even from other addresses, then recovers", async () => {
    for (let i = 0; i < 5; i++)
      await failure(login({ name: "alice", password: "x", remoteAddress: `10.0.0.${i}` }, deps));
    const limited = await failure(
      login({ name: "alice", password: "alice-password", remoteAddress: "10.0.1.1" }, deps),
    );
    expect(limited.code).toBe("RATE_LIMITED");
    expect(limited.details).toMatchObject({ reason: "name-locked" });
    expect(limited.details.retryAfterSeconds).toBeGreaterThan(14 * 60);
    expect(limited.message).toMatch(/too many failed sign-ins/);
    now += 15 * 60_000 + 1;
    await expect(
      login({ name: "alice", password: "alice-password", remoteAddress: "10.0.1.1" }, deps),
    ).resolves.toBeTruthy();
  });

  it("checks one of 20 parallel guesses for a name and refuses the others unchecked", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        login({ name: "alice", password: `guess-${i}`, remoteAddress: "198.51.100.7" }, deps),
      ),
    );
    const codes = results.map((r) =>
      r.status === "rejected" && isConsoleError(r.reason) ? r.reason.code : "ok",
    );
    expect(codes.filter((c) => c === "UNAUTHORIZED")).toHaveLength(1);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(19);
    // Only the checked guess is in the audit log.
    expect(db.prepare(`SELECT COUNT(*) AS n FROM audit`).get()).toEqual({ n: 1 });
  });

  it("does not refuse another account's right password after failures from the same address", async () => {
    for (const name of ["a", "b", "alice", "c", "d", "e", "f", "g"]) {
      await failure(login({ name, password: "x", remoteAddress: "203.0.113.9" }, deps));
    }
    const delaysBefore = slept.length;
    await expect(
      login({ name: "vera", password: "vera-password", remoteAddress: "203.0.113.9" }, deps),
    ).resolves.toMatchObject({ user: { name: "vera" } });
    // The address is slowed down, not locked out: vera waited before her check.
    expect(slept.length).toBe(delaysBefore + 1);
    expect(slept.at(-1)).toBeGreaterThan(0);
    expect(slept.at(-1)).toBeLessThanOrEqual(LOGIN_GATE.addressDelayMaxMs);
    await expect(
      login({ name: "vera", password: "vera-password", remoteAddress: "203.0.113.10" }, deps),
    ).resolves.toBeTruthy();
  });

  it("refuses a check beyond the process-wide bound, without counting it as a failure", async () => {
    const gate = new LoginGate({ ...LOGIN_GATE, maxConcurrentChecks: 1, maxWaitingChecks: 0 });
    const bounded: AuthDeps = { ...deps, gate };
    const [first, second] = await Promise.allSettled([
      login({ name: "alice", password: "x", remoteAddress: "192.0.2.1" }, bounded),
      login({ name: "vera", password: "vera-password", remoteAddress: "192.0.2.2" }, bounded),
    ]);
    expect(first.status === "rejected" && isConsoleError(first.reason, "UNAUTHORIZED")).toBe(true);
    expect(second.status === "rejected" && second.reason).toMatchObject({
      code: "RATE_LIMITED",
      details: { reason: "busy" },
    });
    await expect(
      login({ name: "vera", password: "vera-password", remoteAddress: "192.0.2.2" }, bounded),
    ).resolves.toBeTruthy();
  });

  it("audits failed sign-ins with the name tried and the client address", async () => {
    await failure(login({ name: "alice", password: "x", remoteAddress: "192.0.2.44" }, deps));
    await failure(login({ name: "nobody", password: "x", remoteAddress: "192.0.2.45" }, deps));
    await login({ name: "vera", password: "vera-password", remoteAddress: "192.0.2.46" }, deps);
    const rows = db
      .prepare(`SELECT user, remote_address, action, result, error FROM audit ORDER BY id`)
      .all() as Array<{
      user: string;
      remote_address: string;
      action: string;
      result: string;
      error: string;
    }>;
    expect(rows.map((r) => [r.user, r.remote_address, r.action, r.result])).toEqual([
      ["alice", "192.0.2.44", "auth.login", "failed"],
      ["nobody", "192.0.2.45", "auth.login", "failed"],
    ]);
    expect(rows[0]?.error).toContain(LOGIN_FAILED);
    expect(JSON.stringify(rows)).not.toContain('"x"');
  });
});

describe("password hash upgrades", () => {
  const STRONGER = { N: 2048, r: 8, p: 1 };

  it("re-hashes an old hash at the next sign-in, keeps the session, and yields to a new password", async () => {
    const upgrading: AuthDeps = { ...deps, hashParams: STRONGER };
    const configHash = users.find((u) => u.name === "alice")?.passwordHash?.reveal() ?? "";
    const first = await login(
      { name: "alice", password: "alice-password", remoteAddress: null },
      upgrading,
    );
    const upgraded = effectivePasswordHash(db, "alice", configHash);
    expect(parsePasswordHash(upgraded)?.params).toEqual(STRONGER);
    // The session made before (and with) the upgrade still holds.
    expect(identify(cookieHeaders(first.token), upgrading).user?.name).toBe("alice");
    // The stored hash is the one checked now, and is not upgraded again.
    await login({ name: "alice", password: "alice-password", remoteAddress: null }, upgrading);
    expect(effectivePasswordHash(db, "alice", configHash)).toBe(upgraded);
    await failure(login({ name: "alice", password: "wrong", remoteAddress: null }, upgrading));

    // An operator sets a new password in the config: the upgrade of the old one is dropped.
    const original = users;
    users = usersSchema.parse([
      { name: "alice", role: "operator", passwordHash: await hashPassword("new-password", FAST) },
    ]);
    await failure(
      login({ name: "alice", password: "alice-password", remoteAddress: null }, upgrading),
    );
    await expect(
      login({ name: "alice", password: "new-password", remoteAddress: null }, upgrading),
    ).resolves.toBeTruthy();
    users = original;
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

describe("client address and TLS behind a trusted proxy, in password mode", () => {
  const via = (peer: string, extra: Record<string, string> = {}) =>
    new Headers({ [PEER_HEADER]: peer, ...extra });

  it("believes X-Forwarded-For and -Proto only from a configured proxy", () => {
    auth = authConfigSchema.parse({ trustedProxies: ["127.0.0.1"] });
    const fromProxy = identify(
      via("127.0.0.1", {
        "x-forwarded-for": "6.6.6.6, 198.51.100.4",
        "x-forwarded-proto": "https",
      }),
      deps,
    );
    expect(fromProxy).toMatchObject({ remoteAddress: "198.51.100.4", secure: true });
    const direct = identify(
      via("192.0.2.9", { "x-forwarded-for": "198.51.100.4", "x-forwarded-proto": "https" }),
      deps,
    );
    expect(direct).toMatchObject({ remoteAddress: "192.0.2.9", secure: false });
    expect(identify(via("192.0.2.9", { [PEER_TLS_HEADER]: "1" }), deps).secure).toBe(true);
  });

  it("reads the __Host- cookie over TLS and only the plain one without", async () => {
    auth = authConfigSchema.parse({ trustedProxies: ["127.0.0.1"] });
    const { token } = await login(
      { name: "vera", password: "vera-password", remoteAddress: null },
      deps,
    );
    const tls = { "x-forwarded-proto": "https" };
    expect(
      identify(via("127.0.0.1", { ...tls, cookie: `__Host-lvs_session=${token}` }), deps).user,
    ).toMatchObject({ name: "vera" });
    // A plain cookie over TLS may have been planted from a sibling domain: ignored.
    expect(
      identify(via("127.0.0.1", { ...tls, cookie: `lvs_session=${token}` }), deps).user,
    ).toBeNull();
    expect(
      identify(via("127.0.0.1", { cookie: `__Host-lvs_session=${token}` }), deps).user,
    ).toBeNull();
  });
});
