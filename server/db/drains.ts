/**
 * Drains: which realserver is being taken out of a cluster and the weight it had on every
 * (director, service) before, so "undrain" can put back exactly what was there. The weights
 * are written before any weight is set to 0.
 */
import "server-only";
import { formatServiceKey, type ServiceKey } from "@/server/ipvs/model";
import { getDb, type Db } from "./index";
import { drainUndone } from "./outside";
import { finishAttempt, recordAttempt } from "./audit";

/** "abandoned": an admin closed it without touching any director (docs/changes-and-drains.md). */
export const DRAIN_STATES = ["draining", "drained", "undrained", "removed", "abandoned"] as const;
export type DrainState = (typeof DRAIN_STATES)[number];

export interface DrainOriginal {
  directorId: string;
  service: ServiceKey;
  /** The realserver's port in that service (a drain by address may cover several ports). */
  port: number;
  weight: number;
}

export interface Drain {
  id: number;
  clusterId: string;
  /** port null: every port the address serves on. */
  realserver: { address: string; port: number | null };
  startedAt: number;
  updatedAt: number;
  user: string;
  state: DrainState;
  /** The audit entry of the last action on this drain. */
  auditId: number | null;
  original: DrainOriginal[];
  /** Set when the weight came back outside the console (keepalived, a hand edit): when and by what. */
  undone: { at: number; by: string; directorId: string; auditId: number } | null;
  /** Set when an admin abandoned it: when, who and why. */
  abandoned: { at: number; by: string; reason: string; auditId: number } | null;
}

interface DrainRow {
  id: number;
  cluster_id: string;
  address: string;
  port: number | null;
  started_at: number;
  updated_at: number;
  user: string;
  state: DrainState;
  audit_id: number | null;
}

interface WeightRow {
  director_id: string;
  service: string;
  realserver_port: number;
  weight: number;
}

export interface NewDrain {
  clusterId: string;
  realserver: { address: string; port: number | null };
  user: string;
  original: DrainOriginal[];
  auditId?: number | null;
}

/** Records a drain and its original weights in one transaction; state "draining". */
export function createDrain(input: NewDrain, db: Db = getDb()): Drain {
  const now = Date.now();
  const id = db.transaction(() => {
    const info = db
      .prepare(
        `INSERT INTO drains (cluster_id, address, port, started_at, updated_at, user, state, audit_id)
         VALUES (?, ?, ?, ?, ?, ?, 'draining', ?)`,
      )
      .run(
        input.clusterId,
        input.realserver.address,
        input.realserver.port,
        now,
        now,
        input.user,
        input.auditId ?? null,
      );
    const drainId = Number(info.lastInsertRowid);
    const insert = db.prepare(
      `INSERT INTO drain_weights (drain_id, director_id, service_key, service, realserver_port, weight)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    for (const o of input.original) {
      insert.run(
        drainId,
        o.directorId,
        formatServiceKey(o.service),
        JSON.stringify(o.service),
        o.port,
        o.weight,
      );
    }
    return drainId;
  })();
  const drain = getDrain(id, db);
  if (!drain) throw new Error(`drain ${id} vanished right after it was written`);
  return drain;
}

export function getDrain(id: number, db: Db = getDb()): Drain | null {
  const row = db.prepare<[number], DrainRow>("SELECT * FROM drains WHERE id = ?").get(id);
  return row ? toDrain(row, db) : null;
}

export function listDrains(
  filter: { clusterId?: string; active?: boolean } = {},
  db: Db = getDb(),
): Drain[] {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.clusterId !== undefined) {
    where.push("cluster_id = ?");
    params.push(filter.clusterId);
  }
  if (filter.active !== undefined) {
    where.push(`state ${filter.active ? "IN" : "NOT IN"} ('draining', 'drained')`);
  }
  const rows = db
    .prepare<string[], DrainRow>(
      `SELECT * FROM drains ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC`,
    )
    .all(...params);
  return rows.map((row) => toDrain(row, db));
}

/**
 * The active drain that covers this realserver in the cluster, if any: same address, and the
 * same port or either side "every port".
 */
export function findActiveDrain(
  clusterId: string,
  realserver: { address: string; port: number | null },
  db: Db = getDb(),
): Drain | null {
  const row = db
    .prepare<[string, string, number | null, number | null], DrainRow>(
      `SELECT * FROM drains WHERE cluster_id = ? AND address = ? AND state IN ('draining', 'drained')
         AND (port IS NULL OR ? IS NULL OR port = ?) ORDER BY id DESC LIMIT 1`,
    )
    .get(clusterId, realserver.address, realserver.port, realserver.port);
  return row ? toDrain(row, db) : null;
}

export function setDrainState(
  id: number,
  state: DrainState,
  options: { auditId?: number } = {},
  db: Db = getDb(),
): void {
  db.prepare(
    "UPDATE drains SET state = ?, updated_at = ?, audit_id = COALESCE(?, audit_id) WHERE id = ?",
  ).run(state, Date.now(), options.auditId ?? null, id);
}

/** Records what the live counters say, without leaving a finished state (undrained, removed). */
export function observeDrainProgress(id: number, drained: boolean, db: Db = getDb()): void {
  db.prepare(
    `UPDATE drains SET state = ?, updated_at = ? WHERE id = ? AND state IN ('draining', 'drained') AND state != ?`,
  ).run(drained ? "drained" : "draining", Date.now(), id, drained ? "drained" : "draining");
}

function toDrain(row: DrainRow, db: Db): Drain {
  const weights = db
    .prepare<[number], WeightRow>(
      "SELECT director_id, service, realserver_port, weight FROM drain_weights WHERE drain_id = ? ORDER BY rowid",
    )
    .all(row.id);
  return {
    id: row.id,
    clusterId: row.cluster_id,
    realserver: { address: row.address, port: row.port },
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    user: row.user,
    state: row.state,
    auditId: row.audit_id,
    original: weights.map((w) => ({
      directorId: w.director_id,
      service: JSON.parse(w.service) as ServiceKey,
      port: w.realserver_port,
      weight: w.weight,
    })),
    undone: row.state === "undrained" ? drainUndone(row.id, db) : null,
    abandoned: row.state === "abandoned" ? drainAbandoned(row.id, db) : null,
  };
}

/** When, by whom and why a drain was abandoned, from its "drain.abandon" audit entry. */
function drainAbandoned(drainId: number, db: Db): Drain["abandoned"] {
  const row = db
    .prepare<[number], { id: number; started_at: number; user: string; reason: string | null }>(
      `SELECT id, started_at, user, json_extract(change, '$.reason') AS reason FROM audit
        WHERE action = 'drain.abandon' AND result = 'ok' AND json_extract(change, '$.drainId') = ?
        ORDER BY id DESC LIMIT 1`,
    )
    .get(drainId);
  return row
    ? { at: row.started_at, by: row.user, reason: row.reason ?? "", auditId: row.id }
    : null;
}

/**
 * Closes an active drain whose weight came back outside the console: a "drain.undone" audit
 * entry (when, by what, on which directors) and state "undrained". Returns the entry's id.
 */
export function closeDrainAsUndone(
  input: {
    drain: Pick<Drain, "id" | "clusterId">;
    by: string;
    directors: string[];
    summary: string;
    change: Record<string, unknown>;
    startedAt?: number;
  },
  db: Db = getDb(),
): number {
  const auditId = recordAttempt(
    {
      user: input.by,
      action: "drain.undone",
      clusterId: input.drain.clusterId,
      directors: input.directors,
      summary: input.summary,
      change: {
        drainId: input.drain.id,
        by: input.by,
        directorId: input.directors[0],
        ...input.change,
      },
      ...(input.startedAt === undefined ? {} : { startedAt: input.startedAt }),
    },
    db,
  );
  finishAttempt(auditId, { result: "ok" }, db);
  setDrainState(input.drain.id, "undrained", { auditId }, db);
  return auditId;
}
