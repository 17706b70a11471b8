/**
 * Sign-in sessions in SQLite. The browser holds a random 32-byte token; the table holds only
 * its SHA-256, so a copy of the database does not let anyone sign in. A session ends on
 * logout, after `idle` without requests, `absolute` after sign-in, or when the user's
 * password or entry in the config changes (`credential` no longer matches).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@/server/db";

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

export interface SessionRecord {
  tokenHash: string;
  user: string;
  credential: string;
  createdAt: number;
  lastSeenAt: number;
}

interface SessionRow {
  token_hash: string;
  user: string;
  credential: string;
  created_at: number;
  last_seen_at: number;
}

/** Writing last_seen_at on every request would cost an fsync each; a minute's slack is fine. */
const TOUCH_EVERY_MS = 60_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A fingerprint of what the user signed in with; changing the password ends their sessions. */
export function credentialOf(passwordHash: string): string {
  return createHash("sha256").update(passwordHash, "utf8").digest("hex").slice(0, 32);
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function createSession(
  db: Db,
  init: { user: string; credential: string; remoteAddress: string | null },
  now = Date.now(),
): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString("base64url");
  const tokenHash = hashToken(token);
  db.prepare(
    `INSERT INTO sessions (token_hash, user, credential, created_at, last_seen_at, remote_address)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(tokenHash, init.user, init.credential, now, now, init.remoteAddress);
  return { token, tokenHash };
}

/** The live session for a cookie's token, refreshing its idle timer; expired ones are deleted. */
export function findSession(
  db: Db,
  token: string,
  limits: SessionLimits,
  now = Date.now(),
): SessionRecord | null {
  if (!TOKEN_RE.test(token)) return null;
  const tokenHash = hashToken(token);
  const session = peekSession(db, tokenHash);
  if (!session) return null;
  if (now >= sessionEndsAt(session, limits)) {
    deleteSession(db, tokenHash);
    return null;
  }
  if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
    db.prepare(`UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`).run(now, tokenHash);
    session.lastSeenAt = now;
  }
  return session;
}

/** A session as stored, by its token's hash, without refreshing its idle timer (open streams). */
export function peekSession(db: Db, tokenHash: string): SessionRecord | null {
  const row = db
    .prepare(
      `SELECT token_hash, user, credential, created_at, last_seen_at FROM sessions WHERE token_hash = ?`,
    )
    .get(tokenHash) as SessionRow | undefined;
  return row ? recordOf(row) : null;
}

/** When a session ends unless a request moves its idle limit (ms since epoch). */
export function sessionEndsAt(
  session: Pick<SessionRecord, "createdAt" | "lastSeenAt">,
  limits: SessionLimits,
): number {
  return Math.min(session.lastSeenAt + limits.idleMs, session.createdAt + limits.absoluteMs);
}

function recordOf(row: SessionRow): SessionRecord {
  return {
    tokenHash: row.token_hash,
    user: row.user,
    credential: row.credential,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

export function deleteSession(db: Db, tokenHash: string): void {
  db.prepare(`DELETE FROM sessions WHERE token_hash = ?`).run(tokenHash);
}

export function deleteUserSessions(db: Db, user: string): number {
  return db.prepare(`DELETE FROM sessions WHERE user = ?`).run(user).changes;
}

export function pruneSessions(db: Db, limits: SessionLimits, now = Date.now()): number {
  return db
    .prepare(`DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?`)
    .run(now - limits.idleMs, now - limits.absoluteMs).changes;
}
