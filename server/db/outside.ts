/**
 * Changes made outside the console, in the audit log: the console's own attempts tell it
 * which rule versions it made, so a new version that none of them explains was made by
 * someone (or something: keepalived) else. Also the "drain.undone" entries a drain whose
 * weight came back leaves.
 */
import "server-only";
import { getAuditEntry, type AuditEntry } from "./audit";
import { getDb, type Db } from "./index";

export const OUTSIDE_ACTIONS = ["outside.change", "drain.undone"] as const;
export type OutsideAction = (typeof OUTSIDE_ACTIONS)[number];

/**
 * Whether the console itself is changing `directorId` (an attempt still pending, started
 * within `windowMs`) or made `version` there (an attempt finished within `windowMs` whose
 * after-reading has it).
 */
export function consoleExplains(
  directorId: string,
  version: string,
  windowMs: number,
  db: Db = getDb(),
): boolean {
  const since = Date.now() - windowMs;
  const rows = db
    .prepare<[number, string], { result: string; after: string | null }>(
      `SELECT result, after FROM audit
        WHERE started_at >= ? AND action NOT IN ('outside.change', 'drain.undone')
          AND EXISTS (SELECT 1 FROM json_each(audit.directors) WHERE value = ?)`,
    )
    .all(since, directorId);
  return rows.some((row) => {
    if (row.result === "pending") return true;
    if (row.after === null) return false;
    const after = JSON.parse(row.after) as Record<string, { version?: string } | undefined>;
    return after[directorId]?.version === version;
  });
}

/** The newest outside changes and undone drains, of one director or all. */
export function listOutsideEvents(
  filter: { directorId?: string; clusterId?: string; sinceMs?: number; limit?: number },
  db: Db = getDb(),
): AuditEntry[] {
  const where = ["action IN ('outside.change', 'drain.undone')"];
  const params: Array<string | number> = [];
  if (filter.directorId !== undefined) {
    where.push("EXISTS (SELECT 1 FROM json_each(audit.directors) WHERE value = ?)");
    params.push(filter.directorId);
  }
  if (filter.clusterId !== undefined) {
    where.push("cluster_id = ?");
    params.push(filter.clusterId);
  }
  if (filter.sinceMs !== undefined) {
    where.push("started_at >= ?");
    params.push(filter.sinceMs);
  }
  const ids = db
    .prepare<Array<string | number>, { id: number }>(
      `SELECT id FROM audit WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`,
    )
    .all(...params, filter.limit ?? 50);
  return ids.flatMap((r) => {
    const entry = getAuditEntry(r.id, db);
    return entry ? [entry] : [];
  });
}

/** When and by what a drain was undone, from its "drain.undone" entry; null if it was not. */
export function drainUndone(
  drainId: number,
  db: Db = getDb(),
): { at: number; by: string; directorId: string; auditId: number } | null {
  const row = db
    .prepare<[number], { id: number; started_at: number; user: string; directors: string }>(
      `SELECT id, started_at, user, directors FROM audit
        WHERE action = 'drain.undone' AND json_extract(change, '$.drainId') = ?
        ORDER BY id DESC LIMIT 1`,
    )
    .get(drainId);
  if (!row) return null;
  const directors = JSON.parse(row.directors) as string[];
  return { at: row.started_at, by: row.user, directorId: directors[0] ?? "", auditId: row.id };
}
