/**
 * Applying an operation to a cluster, in this order and for these reasons:
 *  1. one apply at a time per cluster (cluster-lock.ts);
 *  2. fresh snapshots of every director, in parallel; any version other than the one the
 *     operator saw refuses the WHOLE change with CONFLICT and a diff of what changed;
 *  3. plan per director (plan.ts); a refusal anywhere refuses the whole change (REFUSED);
 *  4. the audit row is written before the first command, so a crash leaves the attempt;
 *  5. each director runs its steps as one step under its own lock (run-director.ts), in
 *     parallel: the rules are read again under the lock, and only when EVERY director's
 *     read still has the planned version do the commands run anywhere (clusterGate). An
 *     edit between this read and the lock is the same CONFLICT, and nothing runs; another
 *     holder of a lock is REFUSED (director-locked), and nothing runs;
 *  6. a change that landed on some directors and not others is reported as PARTIAL, never
 *     silently.
 */
import "server-only";
import {
  type ConsoleError,
  isConsoleError,
  addDetails,
  toErrorJson,
  withDetails,
} from "@/server/errors";
import { sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import type { DirectorSnapshot } from "@/server/live/types";
import {
  finishAttempt,
  recordAttempt,
  type Actor,
  type AuditError,
  type AuditResult,
  type DirectorRulesRecord,
} from "@/server/db/audit";
import { diffRules } from "@/server/ipvs/rule-diff";
import { rulesOf } from "@/server/ipvs/rules";
import { directorIo } from "./io";
import { conflictError, findConflicts, lockedConflicts } from "./conflicts";
import {
  unchangedResult,
  type ApplyResult,
  type ClusterOperation,
  type PlannedDirector,
} from "./operation";
import { blockingRefusal, planCluster, readCluster, whileChanging } from "./plan";
import { withClusterLock } from "./cluster-lock";
import { type DirectorGate, type DirectorOutcome, runDirector } from "./run-director";

/**
 * The services each director's change touches, before or after: what the audit keeps,
 * keyed by director id.
 */
function affectedRecords(
  snapshots: readonly DirectorSnapshot[],
  keysByDirector: ReadonlyMap<string, readonly ServiceKey[]>,
  sysctlNames: readonly string[],
): Record<string, DirectorRulesRecord> {
  return Object.fromEntries(
    snapshots.map((s) => {
      const keys = keysByDirector.get(s.directorId) ?? [];
      const record: DirectorRulesRecord = {
        version: s.version,
        services: rulesOf(s.services.filter((x) => keys.some((k) => sameServiceKey(k, x.key)))),
      };
      if (s.sysctls && sysctlNames.length > 0) {
        const sysctls = s.sysctls;
        record.sysctls = Object.fromEntries(sysctlNames.map((n) => [n, sysctls[n] ?? []]));
      }
      return [s.directorId, record];
    }),
  );
}

function affectedKeys(p: PlannedDirector): ServiceKey[] {
  const keys: ServiceKey[] = [];
  for (const c of diffRules(rulesOf(p.snapshot.services), p.intended)) {
    if (!keys.some((k) => sameServiceKey(k, c.service))) keys.push(c.service);
  }
  return keys;
}

export interface ApplyOptions {
  expectedVersions: Record<string, string>;
  user: Actor;
  /**
   * Runs after the audit row is written and before the first command (inside the cluster
   * lock). Throwing aborts the operation, recorded as refused (a REFUSED error) or failed.
   */
  /**
   * Every director already holds what the operation asks for: finish it as "ok" with nothing
   * run (an undrain whose weights are already back) instead of refusing "would-change-nothing".
   */
  nothingToDoIsDone?: boolean;
  beforeApply?: (context: {
    auditId: number;
    planned: ReadonlyArray<{ directorId: string; snapshot: DirectorSnapshot }>;
  }) => void;
}

export async function applyOperation(
  op: ClusterOperation,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const io = directorIo();
  const cluster = io.getCluster(op.clusterId);
  const directorIds = cluster.directors.map((d) => d.id);
  const attempt = {
    user: options.user.name,
    remoteAddress: options.user.remoteAddress ?? null,
    action: op.action,
    clusterId: cluster.id,
    directors: directorIds,
    summary: op.summary,
    change: op.change,
  };

  return withClusterLock(cluster.id, () =>
    whileChanging(cluster.id, async () => {
      let snapshots: DirectorSnapshot[];
      try {
        snapshots = await readCluster(cluster, "change");
      } catch (e) {
        const auditId = recordAttempt(attempt);
        finishAttempt(auditId, { result: "failed", error: toErrorJson(e) });
        throw withAuditId(e, auditId);
      }
      const before = (keysByDirector: Map<string, ServiceKey[]>, names: readonly string[]) =>
        affectedRecords(snapshots, keysByDirector, names);

      const conflicts = findConflicts(snapshots, options.expectedVersions);
      if (conflicts.length > 0) {
        const keys = new Map(
          conflicts.map((c) => [c.directorId, c.changes.map((ch) => ch.service)]),
        );
        const auditId = recordAttempt({ ...attempt, before: before(keys, []) });
        const error = conflictError(conflicts, auditId);
        finishAttempt(auditId, { result: "conflict", error: toErrorJson(error) });
        throw error;
      }

      const planned = planCluster(op, cluster, snapshots);
      const keysByDirector = new Map(planned.map((p) => [p.director.id, affectedKeys(p)]));
      const sysctlNames = [...new Set(planned.flatMap((p) => Object.keys(p.intendedSysctls)))];
      const argv = Object.fromEntries(
        planned.map((p) => [p.director.id, p.steps.map((s) => s.argv)]),
      );

      const refusal = blockingRefusal(planned);
      if (options.nothingToDoIsDone && planned.every((p) => p.tolerated && p.steps.length === 0)) {
        const held = before(keysByDirector, sysctlNames);
        const auditId = recordAttempt({ ...attempt, argv, before: held });
        const results = planned.map((p) => unchangedResult(p));
        finishAttempt(auditId, { result: "ok", after: held, details: results });
        return { auditId, ok: true, result: "ok" as const, error: null, results };
      }
      if (refusal) {
        const auditId = recordAttempt({
          ...attempt,
          argv,
          before: before(keysByDirector, sysctlNames),
        });
        const error = withAuditId(refusal, auditId);
        finishAttempt(auditId, { result: "refused", error: toErrorJson(error) });
        throw error;
      }

      // Written before anything runs: a crash from here on leaves a "pending" attempt.
      const auditId = recordAttempt({
        ...attempt,
        argv,
        before: before(keysByDirector, sysctlNames),
      });
      try {
        options.beforeApply?.({
          auditId,
          planned: planned.map((p) => ({ directorId: p.director.id, snapshot: p.snapshot })),
        });
      } catch (e) {
        finishAttempt(auditId, {
          result: isConsoleError(e, "REFUSED") ? "refused" : "failed",
          error: toErrorJson(e),
        });
        throw withAuditId(e, auditId);
      }

      const gate = clusterGate(planned.filter((p) => p.steps.length > 0).map((p) => p.director.id));
      const outcomes = await Promise.all(planned.map((p) => runDirector(p, gate(p.director.id))));
      const stopped = heldBack(planned, outcomes, auditId);
      if (stopped) {
        finishAttempt(auditId, {
          result: isConsoleError(stopped, "CONFLICT") ? "conflict" : "refused",
          error: toErrorJson(stopped),
          details: outcomes.map((o) => o.result),
        });
        throw stopped;
      }
      const results = outcomes.map((o) => o.result);
      const after = affectedRecords(
        outcomes.flatMap((o) => (o.snapshot ? [o.snapshot] : [])),
        keysByDirector,
        sysctlNames,
      );

      const { result, error } = overall(outcomes);
      finishAttempt(auditId, { result, after, error, details: results });
      return { auditId, ok: result === "ok", result, error, results };
    }),
  );
}

/**
 * One decision for the whole cluster: the commands run on a director only once every
 * director with steps holds its lock and read the planned version. The first "no" (a
 * conflict, a lock held elsewhere, a director that failed before its read) decides at
 * once, so the others let go of their locks without waiting for the rest.
 */
function clusterGate(directorIds: readonly string[]): (directorId: string) => DirectorGate {
  const waiting = new Set(directorIds);
  let decide: (go: boolean) => void = () => undefined;
  const decision = new Promise<boolean>((resolve) => {
    decide = resolve;
  });
  return (directorId) => (locked) => {
    if (!waiting.delete(directorId)) return decision;
    if (locked === null) decide(false);
    else if (waiting.size === 0) decide(true);
    return decision;
  };
}

/** Nothing ran anywhere because a director said no: the CONFLICT or REFUSED to report. */
function heldBack(
  planned: readonly PlannedDirector[],
  outcomes: readonly DirectorOutcome[],
  auditId: number,
): ConsoleError | null {
  if (outcomes.some((o) => o.changedSomething)) return null;
  const conflicts = lockedConflicts(planned, outcomes);
  if (conflicts.length > 0) return conflictError(conflicts, auditId);
  const stop = outcomes.find((o) => o.stopped?.why === "locked")?.stopped;
  return stop?.why === "locked" ? withAuditId(stop.error, auditId) : null;
}

function withAuditId(e: unknown, auditId: number): ConsoleError {
  return withDetails(e, { auditId });
}

function overall(outcomes: DirectorOutcome[]): {
  result: AuditResult & ApplyResult["result"];
  error: AuditError | null;
} {
  const failed = outcomes.filter((o) => !o.result.ok);
  if (failed.length === 0) return { result: "ok", error: null };
  // A director with nothing to do is "ok" but changed nothing: it does not make a change partial.
  const landed = outcomes.filter((o) => o.changedSomething);
  if (landed.length > 0) {
    const okIds = outcomes
      .filter((o) => o.result.ok && o.changedSomething)
      .map((o) => o.result.directorId);
    const failedIds = failed.map((o) => o.result.directorId);
    return {
      result: "partial",
      error: {
        code: "PARTIAL",
        message: `the change is only partly applied: ${okIds.length ? `done on ${okIds.join(", ")}; ` : ""}failed on ${failedIds
          .map((id) => {
            const o = failed.find((f) => f.result.directorId === id);
            return `${id}${o?.changedSomething ? " (after some of its commands ran)" : ""}`;
          })
          .join(", ")}`,
        details: { results: outcomes.map((o) => o.result), applied: okIds, failed: failedIds },
      },
    };
  }
  // The director that said no, rather than the ones it held back.
  const first = (failed.find((o) => o.stopped?.why !== "held-back") ?? failed[0])?.result.error;
  return {
    result: "failed",
    error: first
      ? addDetails(first, { results: outcomes.map((o) => o.result) })
      : { code: "INTERNAL", message: "the change failed", details: {} },
  };
}
