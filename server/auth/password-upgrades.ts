/**
 * Password hashes re-made at a stronger cost when their user signs in. lvs-console.yaml stays
 * the operator's: the console may not be allowed to write it (a read-only config under
 * systemd), and rewriting it would race `npm run user`. So the stronger hash lives in SQLite,
 * next to the fingerprint of the config hash it replaces: once the config's hash changes
 * (`npm run user -- passwd`), the stored one no longer applies and is deleted. Sessions keep
 * the config hash as their credential, so an upgrade ends none of them.
 */
import type { Db } from "@/server/db";
import { credentialOf } from "./sessions";

interface UpgradeRow {
  replaces: string;
  password_hash: string;
}

/** The hash to check a password against: the upgraded one while the config's is unchanged. */
export function effectivePasswordHash(db: Db, user: string, configHash: string): string {
  const row = db
    .prepare(`SELECT replaces, password_hash FROM password_upgrades WHERE user = ?`)
    .get(user) as UpgradeRow | undefined;
  if (!row) return configHash;
  if (row.replaces === credentialOf(configHash)) return row.password_hash;
  db.prepare(`DELETE FROM password_upgrades WHERE user = ?`).run(user);
  return configHash;
}

export function savePasswordUpgrade(
  db: Db,
  user: string,
  configHash: string,
  hash: string,
  now = Date.now(),
): void {
  db.prepare(
    `INSERT INTO password_upgrades (user, replaces, password_hash, upgraded_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (user) DO UPDATE SET replaces = excluded.replaces,
       password_hash = excluded.password_hash, upgraded_at = excluded.upgraded_at`,
  ).run(user, credentialOf(configHash), hash, now);
}
