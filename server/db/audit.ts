/**
 * The audit log: every change attempt, written BEFORE anything runs on a director and
 * completed after, so a console that dies half-way still leaves the attempt (result
 * "pending") for the next operator to see.
 */
import "server-only";
import { z } from "zod";
import type { ServiceWithRealservers } from "@/server/ipvs/rules";
import type { ConsoleErrorJson } from "@/server/errors";
import { capOutput } from "./audit-output";
import { getDb, type Db } from "./index";

export const AUDIT_RESULTS = ["ok", "failed", "refused", "conflict", "partial"] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];
/**
 * "pending": recorded, not finished yet. "interrupted": still pending when the console
 * started again (it stopped while applying); details say what the directors held then.
 */
export type AuditState = AuditResult | "pending" | "interrupted";

/** A director's rules around a change: the version hash and the services the change touches. */
export interface DirectorRulesRecord {
  version: string;
  services: ServiceWithRealservers[];
  sysctls?: Record<string, number[]>;
}

export type AuditError = ConsoleErrorJson;

/** Who asks for a change: a signed-in user and where the request came from (ctx.actor). */
export interface Actor {
  name: string;
  remoteAddress?: string | null;
}

export interface AuditEntry {
  id: number;
  startedAt: number;
  finishedAt: number | null;
  user: string;
  remoteAddress: string | null;
  /** "change", "drain.start", "drain.undrain", "drain.remove", "hostKey.trust", ... */
  action: string;
  clusterId: string | null;
  directors: string[];
  /** One line for lists: "setWeight TCP 203.0.113.10:80 10.10.0.11:80 -> 0". */
  summary: string;
  /** The change as the operator asked for it (JSON). */
  change: unknown;
  /** The commands per director, in order. */
  argv: Record<string, string[][]>;
  before: Record<string, DirectorRulesRecord>;
  after: Record<string, DirectorRulesRecord> | null;
  result: AuditState;
  error: AuditError | null;
  /** Per-director results (exit codes, stderr, verification), as the apply returned them. */
  details: unknown;
}

export interface AttemptInput {
  user: string;
  remoteAddress?: string | null;
  action: string;
  clusterId: string | null;
  directors: string[];
  summary: string;
  change: unknown;
  argv?: Record<string, string[][]>;
  before?: Record<string, DirectorRulesRecord>;
  startedAt?: number;
}

/** Records an attempt (result "pending") and returns its id. Call before running anything. */
export function recordAttempt(input: AttemptInput, db: Db = getDb()): number {
  const info = db
    .prepare(
      `INSERT INTO audit (started_at, user, remote_address, action, cluster_id, directors, summary, change, argv, before)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      input.startedAt ?? Date.now(),
      input.user,
      input.remoteAddress ?? null,
      input.action,
      input.clusterId,
      JSON.stringify(input.directors),
      input.summary,
      JSON.stringify(input.change ?? null),
      JSON.stringify(input.argv ?? {}),
      JSON.stringify(input.before ?? {}),
    );
  return Number(info.lastInsertRowid);
}

export interface FinishInput {
  result: AuditResult;
  after?: Record<string, DirectorRulesRecord> | null;
  error?: AuditError | null;
  details?: unknown;
  /** Replaces the recorded commands (e.g. when the plan was made after the attempt was recorded). */
  argv?: Record<string, string[][]>;
  before?: Record<string, DirectorRulesRecord>;
}

/** Completes an attempt; what commands printed is stored cut (audit-output.ts). */
export function finishAttempt(id: number, input: FinishInput, db: Db = getDb()): void {
  db.prepare(
    `UPDATE audit SET finished_at = ?, result = ?, after = ?, error = ?, details = ?,
       argv = COALESCE(?, argv), before = COALESCE(?, before)
     WHERE id = ?`,
  ).run(
    Date.now(),
    input.result,
    input.after ? JSON.stringify(input.after) : null,
    input.error ? JSON.stringify(capOutput(input.error)) : null,
    input.details === undefined
      ? null
      : JSON.stringify(capOutput(JSON.parse(JSON.stringify(input.details, bigintToString)))),
    input.argv ? JSON.stringify(input.argv) : null,
    input.before ? JSON.stringify(input.before) : null,
    id,
  );
}

function bigintToString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

export const auditFilterSchema = z.object({
  user: z.string().max(200).optional(),
  clusterId: z.string().max(200).optional(),
  directorId: z.string().max(200).optional(),
  result: z.enum([...AUDIT_RESULTS, "pending", "interrupted"]).optional(),
  /** Matched (case-insensitively) against the summary, the change, the commands and the error. */
  text: z.string().max(200).optional(),
  /** Id cursor: entries older than this id. */
  before: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(500).optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

interface AuditRow {
  id: number;
  started_at: number;
  finished_at: number | null;
  user: string;
  remote_address: string | null;
  action: string;
  cluster_id: string | null;
  directors: string;
  summary: string;
  change: string;
  argv: string;
  before: string;
  after: string | null;
  result: AuditState;
  error: string | null;
  details: string | null;
}

/** Newest first; `nextCursor` is the `before` for the next page, or null at the end. */
export function listAudit(
  filter: AuditFilter = {},
  db: Db = getDb(),
  /** false (viewers): `text` does not look into what commands printed, only the error's message. */
  searchOutput = true,
): { entries: AuditEntry[]; nextCursor: number | null } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (filter.user !== undefined) {
    where.push("user = ?");
    params.push(filter.user);
  }
  if (filter.clusterId !== undefined) {
    where.push("cluster_id = ?");
    params.push(filter.clusterId);
  }
  if (filter.directorId !== undefined) {
    where.push("EXISTS (SELECT 1 FROM json_each(audit.directors) WHERE value = ?)");
    params.push(filter.directorId);
  }
  if (filter.result !== undefined) {
    where.push("result = ?");
    params.push(filter.result);
  }
  if (filter.text !== undefined && filter.text !== "") {
    const like = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const errorText = searchOutput ? "error" : "json_extract(error, '$.message')";
    where.push(
      `(summary LIKE ? ESCAPE '\\' OR change LIKE ? ESCAPE '\\' OR argv LIKE ? ESCAPE '\\' OR COALESCE(${errorText}, '') LIKE ? ESCAPE '\\' OR user LIKE ? ESCAPE '\\')`,
    );
    params.push(like, like, like, like, like);
  }
  if (filter.before !== undefined) {
    where.push("id < ?");
    params.push(filter.before);
  }
  const limit = filter.limit ?? 50;
  const rows = db
    .prepare<Array<string | number>, AuditRow>(
      `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
    )
    .all(...params, limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { entries: page.map(toEntry), nextCursor: rows.length > limit && last ? last.id : null };
}

export function getAuditEntry(id: number, db: Db = getDb()): AuditEntry | null {
  const row = db.prepare<[number], AuditRow>("SELECT * FROM audit WHERE id = ?").get(id);
  return row ? toEntry(row) : null;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    user: row.user,
    remoteAddress: row.remote_address,
    action: row.action,
    clusterId: row.cluster_id,
    directors: JSON.parse(row.directors) as string[],
    summary: row.summary,
    change: JSON.parse(row.change) as unknown,
    argv: JSON.parse(row.argv) as Record<string, string[][]>,
    before: JSON.parse(row.before) as Record<string, DirectorRulesRecord>,
    after:
      row.after === null ? null : (JSON.parse(row.after) as Record<string, DirectorRulesRecord>),
    result: row.result,
    error: row.error === null ? null : (JSON.parse(row.error) as AuditError),
    details: row.details === null ? null : (JSON.parse(row.details) as unknown),
  };
}

/** What one involved director held when an interrupted attempt was found. */
export type HeldAfterInterruption =
  | { directorId: string; read: true; version: string }
  | { directorId: string; read: false; unreachable: true; error: ConsoleErrorJson };

export interface InterruptedDetails {
  interrupted: { at: number; directors: HeldAfterInterruption[] };
}

/**
 * Marks every attempt still "pending" as "interrupted" and returns them: call once at start,
 * before any new attempt can be recorded, so only a previous process's attempts are caught.
 */
export function interruptPending(db: Db = getDb()): AuditEntry[] {
  return db.transaction(() => {
    const rows = db
      .prepare<[], AuditRow>("SELECT * FROM audit WHERE result = 'pending' ORDER BY id")
      .all();
    const mark = db.prepare(
      "UPDATE audit SET result = 'interrupted', finished_at = ?, details = ? WHERE id = ?",
    );
    const now = Date.now();
    for (const row of rows) {
      const details: InterruptedDetails = { interrupted: { at: now, directors: [] } };
      mark.run(now, JSON.stringify(details), row.id);
    }
    return rows.map((row) => toEntry({ ...row, result: "interrupted" }));
  })();
}

/** Records what each involved director holds now, read after the attempt was marked interrupted. */
export function recordHeldAfterInterruption(
  id: number,
  held: { after: Record<string, DirectorRulesRecord>; directors: HeldAfterInterruption[] },
  db: Db = getDb(),
): void {
  const details: InterruptedDetails = {
    interrupted: { at: Date.now(), directors: held.directors },
  };
  db.prepare("UPDATE audit SET after = ?, details = ? WHERE id = ? AND result = 'interrupted'").run(
    JSON.stringify(held.after),
    JSON.stringify(details),
    id,
  );
}
