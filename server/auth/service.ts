/**
 * Who is at the keyboard: password sign-in, session lookup, and the trusted reverse-proxy
 * header. Roles always come from the current config, never from the session row, so a
 * demotion in lvs-console.yaml applies on the next request.
 */
import "server-only";
import type { Config } from "@/server/config";
import type { ScryptParams } from "@/server/config/password-hash";
import { getDb, type Db } from "@/server/db";
import { finishAttempt, recordAttempt } from "@/server/db/audit";
import { ConsoleError } from "@/server/errors";
import { getConsoleMetrics } from "@/server/metrics/registry";
import {
  burnPasswordCheck,
  DEFAULT_PARAMS,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password";
import { effectivePasswordHash, savePasswordUpgrade } from "./password-upgrades";
import { currentAuthConfig } from "./live-config";
import { isRefusal, LoginGate, type GateRefusal } from "./login-gate";
import {
  trustedProxiesOf,
  USER_NAME,
  type ConsoleUser,
  type Role,
} from "@/server/config/users-schema";
import { clientAddress, isSecureRequest, isTrustedPeer, sessionTokenOf } from "./http";
import {
  createSession,
  credentialOf,
  deleteSession,
  findSession,
  peekSession,
  pruneSessions,
  sessionEndsAt,
  type SessionLimits,
  type SessionRecord,
} from "./sessions";
import { endSessionStreams } from "./session-streams";

export interface AuthenticatedUser {
  name: string;
  role: Role;
}

export interface RequestIdentity {
  user: AuthenticatedUser | null;
  sessionId: string | null;
  remoteAddress: string | null;
  /** TLS at this server or at a trusted proxy: the cookie is `__Host-` and Secure. */
  secure: boolean;
}

export interface AuthDeps {
  config: () => Pick<Config, "users" | "auth">;
  db: () => Db;
  now: () => number;
  /** The cost new hashes are made at (tests pass a cheap one). */
  hashParams?: ScryptParams;
  /** The sign-in limits (tests pass their own). */
  gate?: LoginGate;
  sleep?: (ms: number) => Promise<void>;
}

const defaultDeps: AuthDeps = { config: currentAuthConfig, db: getDb, now: Date.now };

const limiters = globalThis as typeof globalThis & { __lvsConsoleLoginGate?: LoginGate };

function loginGate(): LoginGate {
  limiters.__lvsConsoleLoginGate ??= new LoginGate();
  return limiters.__lvsConsoleLoginGate;
}

/** Forgets all failed attempts (tests). */
export function resetLoginLimits(): void {
  limiters.__lvsConsoleLoginGate = undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function sessionLimits(config: Pick<Config, "auth">): SessionLimits {
  return {
    idleMs: config.auth.idleMinutes * 60_000,
    absoluteMs: config.auth.absoluteHours * 3_600_000,
  };
}

function findUser(config: Pick<Config, "users">, name: string): ConsoleUser | undefined {
  return config.users.find((u) => u.name === name);
}

/** The one message for every failed sign-in, so it does not tell which names exist. */
export const LOGIN_FAILED = "wrong user name or password";

export interface LoginResult {
  user: AuthenticatedUser;
  token: string;
  sessionId: string;
  maxAgeSeconds: number;
}

function rateLimited(refusal: GateRefusal): ConsoleError {
  getConsoleMetrics().recordSignIn("rate_limited");
  const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  const message =
    refusal.refused === "name-locked"
      ? `too many failed sign-ins for this user name; try again in ${Math.ceil(seconds / 60)} minute(s)`
      : refusal.refused === "name-busy"
        ? "a sign-in for this user name is already being checked; try again in a moment"
        : "too many sign-ins at once; try again in a few seconds";
  return new ConsoleError("RATE_LIMITED", message, {
    reason: refusal.refused,
    retryAfterSeconds: seconds,
  });
}

/** A failed password check in the audit log (refusals by the limits are not: they cost nothing). */
function auditFailedSignIn(db: Db, name: string, remoteAddress: string | null, now: number): void {
  const id = recordAttempt(
    {
      user: name,
      remoteAddress,
      action: "auth.login",
      clusterId: null,
      directors: [],
      summary: `failed sign-in as ${JSON.stringify(name)}`,
      change: { name },
      startedAt: now,
    },
    db,
  );
  finishAttempt(
    id,
    { result: "failed", error: { code: "UNAUTHORIZED", message: LOGIN_FAILED, details: {} } },
    db,
  );
}

/**
 * Checks a password under the sign-in limits (server/auth/login-gate.ts) and opens a session.
 * Throws UNAUTHORIZED (wrong name or password, audited) or RATE_LIMITED (not checked).
 */
export async function login(
  input: { name: string; password: string; remoteAddress: string | null },
  deps: AuthDeps = defaultDeps,
): Promise<LoginResult> {
  const gate = deps.gate ?? loginGate();
  const params = deps.hashParams ?? DEFAULT_PARAMS;
  const now = deps.now();
  const reservation = gate.reserve(input.name.toLowerCase(), input.remoteAddress ?? "unknown", now);
  if (isRefusal(reservation)) throw rateLimited(reservation);

  let user: ConsoleUser | undefined;
  let configHash: string | undefined;
  try {
    if (reservation.delayMs > 0) await (deps.sleep ?? sleep)(reservation.delayMs);
    const slot = gate.acquireCheck();
    if (!slot) {
      reservation.end("not-checked");
      throw rateLimited({ refused: "busy", retryAfterMs: 2_000 });
    }
    const release = await slot;
    let ok: boolean;
    try {
      user = deps.config().users.find((u) => u.name === input.name);
      configHash = user?.passwordHash?.reveal();
      const db = deps.db();
      const hash =
        user && configHash !== undefined
          ? effectivePasswordHash(db, user.name, configHash)
          : undefined;
      ok =
        hash !== undefined
          ? await verifyPassword(input.password, hash)
          : await burnPasswordCheck(input.password, params);
      if (ok && user && configHash !== undefined && hash !== undefined && needsRehash(hash, params))
        await upgradeHash(db, user.name, configHash, input.password, params, now);
    } finally {
      release();
    }
    if (!ok || !user || configHash === undefined) {
      reservation.end("failed");
      auditFailedSignIn(deps.db(), input.name, input.remoteAddress, now);
      getConsoleMetrics().recordSignIn("failure");
      throw new ConsoleError("UNAUTHORIZED", LOGIN_FAILED);
    }
    reservation.end("succeeded");
  } finally {
    // An unexpected error (a broken database) counts as the failure it was reserved as.
    reservation.end("failed");
  }

  const db = deps.db();
  const config = deps.config();
  const limits = sessionLimits(config);
  pruneSessions(db, limits, now);
  const { token, tokenHash } = createSession(
    db,
    { user: user.name, credential: credentialOf(configHash), remoteAddress: input.remoteAddress },
    now,
  );
  getConsoleMetrics().recordSignIn("success");
  return {
    user: { name: user.name, role: user.role },
    token,
    sessionId: tokenHash,
    maxAgeSeconds: Math.floor(limits.absoluteMs / 1000),
  };
}

/** A failed upgrade is logged, never a failed sign-in: the old hash still works. */
async function upgradeHash(
  db: Db,
  user: string,
  configHash: string,
  password: string,
  params: ScryptParams,
  now: number,
): Promise<void> {
  try {
    savePasswordUpgrade(db, user, configHash, await hashPassword(password, params), now);
  } catch (e) {
    console.error(`cannot store the upgraded password hash of ${user}:`, e);
  }
}

export function logout(sessionId: string, deps: AuthDeps = defaultDeps): void {
  deleteSession(deps.db(), sessionId);
  // Its open live streams end now, not at their next push.
  endSessionStreams(sessionId);
}

/** The console user a session belongs to, unless removed from the config or given a new password. */
function userOfSession(
  config: Pick<Config, "users">,
  session: SessionRecord,
): AuthenticatedUser | null {
  const user = findUser(config, session.user);
  const hash = user?.passwordHash?.reveal();
  return user && hash !== undefined && credentialOf(hash) === session.credential
    ? { name: user.name, role: user.role }
    : null;
}

/**
 * When the session ends unless a request moves its idle limit (ms since epoch), or null when
 * it is over: logged out, expired, its user removed or given a new password. For open live
 * streams: reads without refreshing the idle timer, so a stream alone keeps no session alive.
 */
export function sessionEndsAtFor(sessionId: string, deps: AuthDeps = defaultDeps): number | null {
  const config = deps.config();
  const session = peekSession(deps.db(), sessionId);
  if (!session || !userOfSession(config, session)) return null;
  const endsAt = sessionEndsAt(session, sessionLimits(config));
  return endsAt > deps.now() ? endsAt : null;
}

/** The user behind a request: a valid session cookie, else the trusted proxy's header. */
export function identify(headers: Headers, deps: AuthDeps = defaultDeps): RequestIdentity {
  const config = deps.config();
  const proxy = config.auth.proxyHeader;
  const trusted = trustedProxiesOf(config.auth);
  const remoteAddress = clientAddress(headers, trusted);
  const secure = isSecureRequest(headers, trusted);
  const anonymous: RequestIdentity = { user: null, sessionId: null, remoteAddress, secure };

  const token = sessionTokenOf(headers, secure);
  if (token) {
    const db = deps.db();
    const session = findSession(db, token, sessionLimits(config), deps.now());
    if (session) {
      const user = userOfSession(config, session);
      if (user) return { user, sessionId: session.tokenHash, remoteAddress, secure };
      // Removed from the config or password changed since sign-in.
      deleteSession(db, session.tokenHash);
    }
  }

  if (proxy) {
    const name = headers.get(proxy.header)?.trim();
    if (name && USER_NAME.test(name) && isTrustedPeer(headers, proxy.trustedProxies)) {
      const user = findUser(config, name);
      const role = user?.role ?? proxy.defaultRole;
      if (role) return { user: { name, role }, sessionId: null, remoteAddress, secure };
    }
  }
  return anonymous;
}
