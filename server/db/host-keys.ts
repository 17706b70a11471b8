/** Host keys an admin trusted through the UI (after a HOST_KEY_UNKNOWN), one per director. */
import "server-only";
import type { TrustedHostKey, TrustStore } from "@/server/ssh/host-keys";
import { getDb, type Db } from "./index";

interface TrustedRow {
  director_id: string;
  fingerprint: string;
  trusted_at: number;
  trusted_by: string;
}

export function getTrustedHostKey(directorId: string, db: Db = getDb()): TrustedHostKey | null {
  const row = db
    .prepare(
      "SELECT director_id, fingerprint, trusted_at, trusted_by FROM trusted_host_keys WHERE director_id = ?",
    )
    .get(directorId) as TrustedRow | undefined;
  return row
    ? {
        directorId: row.director_id,
        fingerprint: row.fingerprint,
        trustedAt: row.trusted_at,
        trustedBy: row.trusted_by,
      }
    : null;
}

/** Records (or replaces) the key an admin accepted for a director. */
export function saveTrustedHostKey(
  directorId: string,
  fingerprint: string,
  user: string,
  db: Db = getDb(),
): TrustedHostKey {
  const trustedAt = Date.now();
  db.prepare(
    `INSERT INTO trusted_host_keys (director_id, fingerprint, trusted_at, trusted_by) VALUES (?, ?, ?, ?)
     ON CONFLICT (director_id) DO UPDATE SET fingerprint = excluded.fingerprint,
       trusted_at = excluded.trusted_at, trusted_by = excluded.trusted_by`,
  ).run(directorId, fingerprint, trustedAt, user);
  return { directorId, fingerprint, trustedAt, trustedBy: user };
}

/** The trust store of the console process. */
export const sqliteTrustStore: TrustStore = { get: (directorId) => getTrustedHostKey(directorId) };
