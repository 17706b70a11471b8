/**
 * Who is at the keyboard: password sign-in, session lookup, and the trusted reverse-proxy
 * header. Roles always come from the current config, never from the session row, so a
 * demotion in lvs-console.yaml applies on the next request.
 */
import "server-only";
import type { Config } from "@/server/config";
import { getDb, type Db } from "@/server/db";
import { ConsoleError } from "@/server/errors";
import { getConsoleMetrics } from "@/server/metrics/registry";
import { burnPasswordCheck, verifyPassword } from "./password";
import { currentAuthConfig } from "./live-config";
import { FailureLimiter } from "./rate-limit";
import { USER_NAME, type ConsoleUser, type Role } from "./schema";
import { clientAddress, peerAddress, sessionTokenOf } from "./http";
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
}

export interface AuthDeps {
  config: () => Pick<Config, "users" | "auth">;
  db: () => Db;
  now: () => number;
}

const defaultDeps: AuthDeps = { config: currentAuthConfig, db: getDb, now: Date.now };

const limiters = globalThis as typeof globalThis & {
  __lvsConsoleLoginLimits?: { byName: FailureLimiter; byAddress: FailureLimiter };
};

function loginLimits(): { byName: FailureLimiter; byAddress: FailureLimiter } {
  limiters.__lvsConsoleLoginLimits ??= {
    byName: new FailureLimiter(),
    byAddress: new FailureLimiter(),
  };
  return limiters.__lvsConsoleLoginLimits;
}

/** Forgets all failed attempts (tests). */
export function resetLoginLimits(): void {
  limiters.__lvsConsoleLoginLimits = undefined;
}

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

export async function login(
  input: { name: string; password: string; remoteAddress: string | null },
  deps: AuthDeps = defaultDeps,
): Promise<LoginResult> {
  const { byName, byAddress } = loginLimits();
  const now = deps.now();
  const nameKey = input.name.toLowerCase();
  const addressKey = input.remoteAddress ?? "unknown";
  const wait = Math.max(byName.retryAfterMs(nameKey, now), byAddress.retryAfterMs(addressKey, now));
  if (wait > 0) {
    getConsoleMetrics().recordSignIn("rate_limited");
    throw new ConsoleError(
      "UNAUTHORIZED",
      `too many failed sign-ins; try again in ${Math.ceil(wait / 60_000)} minute(s)`,
      { rateLimited: true, retryAfterSeconds: Math.ceil(wait / 1000) },
    );
  }

  const config = deps.config();
  const user = findUser(config, input.name);
  const hash = user?.passwordHash?.reveal();
  const ok =
    hash !== undefined
      ? await verifyPassword(input.password, hash)
      : await burnPasswordCheck(input.password);
  if (!user || hash === undefined || !ok) {
    byName.fail(nameKey, now);
    byAddress.fail(addressKey, now);
    getConsoleMetrics().recordSignIn("failure");
    throw new ConsoleError("UNAUTHORIZED", LOGIN_FAILED);
  }
  byName.reset(nameKey);

  const db = deps.db();
  const limits = sessionLimits(config);
  pruneSessions(db, limits, now);
  const { token, tokenHash } = createSession(
    db,
    { user: user.name, credential: credentialOf(hash), remoteAddress: input.remoteAddress },
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
  const remoteAddress = clientAddress(headers, proxy?.trustedProxies ?? []);
  const anonymous: RequestIdentity = { user: null, sessionId: null, remoteAddress };

  const token = sessionTokenOf(headers);
  if (token) {
    const db = deps.db();
    const session = findSession(db, token, sessionLimits(config), deps.now());
    if (session) {
      const user = userOfSession(config, session);
      if (user) return { user, sessionId: session.tokenHash, remoteAddress };
      // Removed from the config or password changed since sign-in.
      deleteSession(db, session.tokenHash);
    }
  }

  if (proxy) {
    const name = headers.get(proxy.header)?.trim();
    const peer = peerAddress(headers);
    if (name && USER_NAME.test(name) && peer !== null && proxy.trustedProxies.includes(peer)) {
      const user = findUser(config, name);
      const role = user?.role ?? proxy.defaultRole;
      if (role) return { user: { name, role }, sessionId: null, remoteAddress };
    }
  }
  return anonymous;
}
