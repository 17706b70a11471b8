/**
 * Changes to a cluster's rules: preview (plan on fresh snapshots) and apply (optimistic
 * concurrency on the version hash, plan, run, read back, verify, audit).
 *
 * The order of apply, and why:
 *  1. one apply at a time per cluster (a mutex), so two operators' commands never interleave;
 *  2. fresh snapshots of every director, in parallel; any version other than the one the
 *     operator saw refuses the WHOLE change with CONFLICT and a diff of what changed;
 *  3. plan per director; a refusal anywhere refuses the whole change (REFUSED);
 *  4. the audit row is written before the first command, so a crash leaves the attempt;
 *  5. steps run in order per director (directors in parallel), stopping a director at its
 *     first failure; then every director is read back and compared with the change's
 *     intent (VERIFY_FAILED names the command); a change that landed on some directors
 *     and not others is reported as PARTIAL, never silently.
 */
import "server-only";
import type { DirectorConfig, ClusterConfig } from "@/server/config";
import { ConsoleError, isConsoleError, type ConsoleErrorCode } from "@/server/errors";
import { classifyIpvsadmFailure } from "@/server/ipvs/errors";
import {
  formatEndpoint,
  formatServiceKey,
  sameServiceKey,
  type IpvsSysctls,
  type ServiceKey,
} from "@/server/ipvs/model";
import { plan, type Change, type PlanStep, type RefusalReason } from "@/server/ipvs/planner";
import type { DirectorSnapshot } from "@/server/live/types";
import {
  finishAttempt,
  recordAttempt,
  type AuditError,
  type AuditResult,
  type DirectorRulesRecord,
} from "@/server/db/audit";
import { commandLine } from "@/server/ssh/quote";
import { diffRules, rulesOf, type RuleChange, type ServiceWithRealservers } from "./diff";
import { intendedRules } from "./intent";
import { directorIo } from "./io";
import { drainWarnings, undoWarnings, type PreflightWarning } from "./preflight";
import { rememberSnapshot, rulesAtVersion } from "./versions";

const STEP_TIMEOUT_MS = 20_000;

export interface ErrorJson {
  code: ConsoleErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export interface PreviewStep {
  argv: string[];
  /** The command line as the director's shell receives it (for operators to read and copy). */
  command: string;
  description: string;
}

export type DirectorPreview =
  | { directorId: string; ok: true; steps: PreviewStep[] }
  | {
      directorId: string;
      ok: false;
      reason: RefusalReason;
      message: string;
      fields?: Record<string, string>;
    };

export interface ChangePreview {
  /** The versions the plan was made against: send them back as expectedVersions. */
  versions: Record<string, string>;
  perDirector: DirectorPreview[];
  warnings: PreflightWarning[];
}

export interface StepResult {
  argv: string[];
  description: string;
  /** null when the command never ran to an exit (transport failure). */
  exitCode: number | null;
  stderr: string;
}

export interface DirectorResult {
  directorId: string;
  ok: boolean;
  steps: StepResult[];
  error: ErrorJson | null;
  verified: boolean;
  /** The version read back after the change (null if the read-back failed). */
  version: string | null;
}

export interface ApplyResult {
  auditId: number;
  ok: boolean;
  result: "ok" | "failed" | "partial";
  /** PARTIAL, COMMAND_FAILED, VERIFY_FAILED, ... for the change as a whole; null when ok. */
  error: ErrorJson | null;
  results: DirectorResult[];
}

export interface Actor {
  name: string;
  remoteAddress?: string | null;
}

/** A change to plan on every director of a cluster (one change, or a drain's sequence). */
export interface ClusterOperation {
  clusterId: string;
  /** Audit action: "change", "drain.start", ... */
  action: string;
  summary: string;
  /** Recorded in the audit log as asked. */
  change: unknown;
  /** The changes for one director, in order; [] = nothing to do there. */
  changesFor(directorId: string, snapshot: DirectorSnapshot): Change[];
  /** Refusals that mean "nothing to do here" for this operation, beyond would-change-nothing. */
  tolerate?: readonly RefusalReason[];
  warningsFor?(directorId: string, snapshot: DirectorSnapshot): PreflightWarning[];
}

interface PlannedDirector {
  director: DirectorConfig;
  snapshot: DirectorSnapshot;
  steps: PlanStep[];
  intended: ServiceWithRealservers[];
  intendedSysctls: Record<string, number>;
  refusal: { reason: RefusalReason; message: string; fields?: Record<string, string> } | null;
  /** The refusal only means "nothing to do on this director". */
  tolerated: boolean;
}

function errorJson(e: unknown): ErrorJson {
  if (isConsoleError(e)) return { code: e.code, message: e.message, details: e.details };
  return { code: "INTERNAL", message: e instanceof Error ? e.message : String(e), details: {} };
}

/** One line for the audit list, in the operator's words. */
export function summarizeChange(change: Change): string {
  switch (change.kind) {
    case "setWeight":
      return `set weight of ${formatEndpoint(change.realserver)} in ${formatServiceKey(change.service)} to ${change.weight}`;
    case "addRealserver":
      return `add realserver ${formatEndpoint(change.realserver)} to ${formatServiceKey(change.service)}`;
    case "editRealserver":
      return `edit realserver ${formatEndpoint(change.realserver)} of ${formatServiceKey(change.service)}`;
    case "removeRealserver":
      return `remove realserver ${formatEndpoint(change.realserver)} from ${formatServiceKey(change.service)}`;
    case "addService":
      return `add virtual service ${formatServiceKey(change.service.key)}`;
    case "editService":
      return `edit virtual service ${formatServiceKey(change.service.key)}`;
    case "deleteService":
      return `delete virtual service ${formatServiceKey(change.service)}`;
    case "drain":
      return `drain ${describeRealserver(change.realserver)}`;
    case "undrain":
      return `undrain ${describeRealserver(change.realserver)}`;
    case "setSysctl":
      return `set net.ipv4.vs.${change.setting.name} to ${change.setting.value}`;
  }
}

export function describeRealserver(r: { address: string; port?: number | null }): string {
  return r.port === undefined || r.port === null
    ? r.address
    : formatEndpoint({ address: r.address, port: r.port });
}

// ---- reading and planning ----

async function readCluster(cluster: ClusterConfig): Promise<DirectorSnapshot[]> {
  const io = directorIo();
  const snapshots = await Promise.all(
    cluster.directors.map(async (director) => {
      try {
        return await io.readSnapshot(director);
      } catch (e) {
        const err = errorJson(e);
        throw new ConsoleError(
          err.code,
          `${director.id}: ${err.message}`,
          { ...err.details, directorId: director.id },
          { cause: e },
        );
      }
    }),
  );
  snapshots.forEach(rememberSnapshot);
  return snapshots;
}

function planDirector(
  op: ClusterOperation,
  director: DirectorConfig,
  snapshot: DirectorSnapshot,
): PlannedDirector {
  const tolerated = new Set<RefusalReason>(["would-change-nothing", ...(op.tolerate ?? [])]);
  let services = rulesOf(snapshot.services);
  const sysctls: IpvsSysctls = { ...snapshot.sysctls };
  const intendedSysctls: Record<string, number> = {};
  const steps: PlanStep[] = [];
  let firstTolerated: PlannedDirector["refusal"] = null;
  for (const change of op.changesFor(director.id, snapshot)) {
    const p = plan(services, change, { sysctls });
    if (!p.ok) {
      const refusal = {
        reason: p.reason,
        message: p.message,
        ...(p.fields ? { fields: p.fields } : {}),
      };
      if (tolerated.has(p.reason)) {
        firstTolerated ??= refusal;
        continue;
      }
      return {
        director,
        snapshot,
        steps: [],
        intended: services,
        intendedSysctls,
        refusal,
        tolerated: false,
      };
    }
    steps.push(...p.steps);
    services = intendedRules(services, change);
    if (change.kind === "setSysctl") {
      intendedSysctls[change.setting.name] = change.setting.value;
      sysctls[change.setting.name] = [change.setting.value];
    }
  }
  return {
    director,
    snapshot,
    steps,
    intended: services,
    intendedSysctls,
    refusal:
      steps.length === 0
        ? (firstTolerated ?? {
            reason: "would-change-nothing",
            message: "nothing to change on this director",
          })
        : null,
    tolerated: true,
  };
}

function previewOf(p: PlannedDirector): DirectorPreview {
  if (p.refusal && p.steps.length === 0) {
    return { directorId: p.director.id, ok: false, ...p.refusal };
  }
  return {
    directorId: p.director.id,
    ok: true,
    steps: p.steps.map((s) => ({
      argv: s.argv,
      command: commandLine(s.argv, { sudo: p.director.sudo }),
      description: s.description,
    })),
  };
}

/**
 * A refusal that stops the whole operation: any refusal that is not "nothing to do here",
 * or nothing to do anywhere.
 */
function blockingRefusal(planned: PlannedDirector[]): ConsoleError | null {
  const target =
    planned.find((p) => p.refusal && !p.tolerated) ??
    (planned.every((p) => p.steps.length === 0) ? planned[0] : undefined);
  if (!target?.refusal) return null;
  const { reason, message, fields } = target.refusal;
  if (reason === "invalid") {
    return new ConsoleError("VALIDATION", message, {
      fields: fields ?? {},
      directorId: target.director.id,
    });
  }
  return new ConsoleError("REFUSED", `${target.director.id}: ${message}`, {
    reason,
    directorId: target.director.id,
    perDirector: planned.map(previewOf),
  });
}

function planCluster(
  op: ClusterOperation,
  cluster: ClusterConfig,
  snapshots: DirectorSnapshot[],
): PlannedDirector[] {
  return cluster.directors.map((director, i) => {
    const snapshot = snapshots[i];
    if (!snapshot) throw new ConsoleError("INTERNAL", `no snapshot of ${director.id}`);
    return planDirector(op, director, snapshot);
  });
}

export async function previewOperation(op: ClusterOperation): Promise<ChangePreview> {
  const cluster = directorIo().getCluster(op.clusterId);
  const snapshots = await readCluster(cluster);
  const planned = planCluster(op, cluster, snapshots);
  return {
    versions: Object.fromEntries(snapshots.map((s) => [s.directorId, s.version])),
    perDirector: planned.map(previewOf),
    warnings: op.warningsFor
      ? snapshots.flatMap((s) => op.warningsFor?.(s.directorId, s) ?? [])
      : [],
  };
}

// ---- applying ----

const globalForLocks = globalThis as unknown as { lvsClusterLocks?: Map<string, Promise<unknown>> };
const locks: Map<string, Promise<unknown>> = (globalForLocks.lvsClusterLocks ??= new Map<
  string,
  Promise<unknown>
>());

/** Runs `fn` after every earlier apply on the same cluster has finished. */
async function withClusterLock<T>(clusterId: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(clusterId) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  locks.set(clusterId, settled);
  try {
    return await run;
  } finally {
    if (locks.get(clusterId) === settled) locks.delete(clusterId);
  }
}

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

  return withClusterLock(cluster.id, async () => {
    let snapshots: DirectorSnapshot[];
    try {
      snapshots = await readCluster(cluster);
    } catch (e) {
      const auditId = recordAttempt(attempt);
      finishAttempt(auditId, { result: "failed", error: errorJson(e) });
      throw withAuditId(e, auditId);
    }
    const before = (keysByDirector: Map<string, ServiceKey[]>, names: readonly string[]) =>
      affectedRecords(snapshots, keysByDirector, names);

    const conflicts = findConflicts(snapshots, options.expectedVersions);
    if (conflicts.length > 0) {
      const keys = new Map(conflicts.map((c) => [c.directorId, c.changes.map((ch) => ch.service)]));
      const auditId = recordAttempt({ ...attempt, before: before(keys, []) });
      const error = new ConsoleError(
        "CONFLICT",
        `the rules changed since you looked: ${conflicts
          .map(
            (c) =>
              `${c.directorId}${c.changes.length ? ` (${c.changes.map((ch) => ch.text).join("; ")})` : ""}`,
          )
          .join(", ")}`,
        {
          auditId,
          directors: conflicts,
          changes: conflicts.flatMap((c) =>
            c.changes.map((ch) => ({ ...ch, directorId: c.directorId })),
          ),
        },
      );
      finishAttempt(auditId, { result: "conflict", error: errorJson(error) });
      throw error;
    }

    const planned = planCluster(op, cluster, snapshots);
    const keysByDirector = new Map(planned.map((p) => [p.director.id, affectedKeys(p)]));
    const sysctlNames = [...new Set(planned.flatMap((p) => Object.keys(p.intendedSysctls)))];
    const argv = Object.fromEntries(
      planned.map((p) => [p.director.id, p.steps.map((s) => s.argv)]),
    );

    const refusal = blockingRefusal(planned);
    if (refusal) {
      const auditId = recordAttempt({
        ...attempt,
        argv,
        before: before(keysByDirector, sysctlNames),
      });
      const error = withAuditId(refusal, auditId);
      finishAttempt(auditId, { result: "refused", error: errorJson(error) });
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
        error: errorJson(e),
      });
      throw withAuditId(e, auditId);
    }

    const outcomes = await Promise.all(planned.map((p) => runDirector(p)));
    const results = outcomes.map((o) => o.result);
    const after = affectedRecords(
      outcomes.flatMap((o) => (o.snapshot ? [o.snapshot] : [])),
      keysByDirector,
      sysctlNames,
    );

    const { result, error } = overall(outcomes);
    finishAttempt(auditId, { result, after, error, details: results });
    return { auditId, ok: result === "ok", result, error, results };
  });
}

function withAuditId(e: unknown, auditId: number): ConsoleError {
  const err = errorJson(e);
  return new ConsoleError(
    err.code,
    err.message,
    { ...err.details, auditId },
    {
      cause: e,
      ...(e instanceof ConsoleError && e.adminDetail ? { adminDetail: e.adminDetail } : {}),
    },
  );
}

interface Conflict {
  directorId: string;
  expected: string | null;
  actual: string;
  /** What changed, when the rules behind the expected version are still known. */
  changes: Array<RuleChange>;
  /** false: the rules the operator saw are no longer known, so only "it changed" can be said. */
  known: boolean;
}

function findConflicts(
  snapshots: DirectorSnapshot[],
  expected: Record<string, string>,
): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const s of snapshots) {
    const version = expected[s.directorId];
    if (version === s.version) continue;
    const seen = version === undefined ? null : rulesAtVersion(s.directorId, version);
    conflicts.push({
      directorId: s.directorId,
      expected: version ?? null,
      actual: s.version,
      changes: seen ? diffRules(seen, rulesOf(s.services)) : [],
      known: seen !== null,
    });
  }
  return conflicts;
}

interface DirectorOutcome {
  result: DirectorResult;
  snapshot: DirectorSnapshot | null;
  /** At least one command took effect: exit 0, or rules read back that differ from before. */
  changedSomething: boolean;
}

async function runDirector(p: PlannedDirector): Promise<DirectorOutcome> {
  const io = directorIo();
  const steps: StepResult[] = [];
  let error: ErrorJson | null = null;
  let changedSomething = false;

  for (const step of p.steps) {
    try {
      const out = await io.exec(p.director, step.argv, { timeoutMs: STEP_TIMEOUT_MS });
      steps.push({
        argv: step.argv,
        description: step.description,
        exitCode: out.exitCode,
        stderr: out.stderr,
      });
      if (out.exitCode !== 0) {
        const ipvs = classifyIpvsadmFailure(out.exitCode, out.stderr);
        error = {
          code: "COMMAND_FAILED",
          message: `${p.director.id}: ${step.argv.join(" ")} failed (exit ${out.exitCode}): ${ipvs.message}`,
          details: {
            directorId: p.director.id,
            argv: step.argv,
            exitCode: out.exitCode,
            stderr: out.stderr,
            stdout: out.stdout,
            ipvs,
          },
        };
        break;
      }
      changedSomething = true;
    } catch (e) {
      steps.push({ argv: step.argv, description: step.description, exitCode: null, stderr: "" });
      const err = errorJson(e);
      error = {
        ...err,
        message: `${p.director.id}: ${err.message}`,
        details: { ...err.details, directorId: p.director.id, argv: step.argv },
      };
      break;
    }
  }

  let snapshot: DirectorSnapshot | null = null;
  let verified = false;
  if (p.steps.length > 0) {
    try {
      snapshot = await io.readSnapshot(p.director);
      rememberSnapshot(snapshot);
    } catch (e) {
      const err = errorJson(e);
      error ??= {
        code: "VERIFY_FAILED",
        message: `${p.director.id}: the change ran but the read-back failed: ${err.message}`,
        details: { directorId: p.director.id, cause: err },
      };
    }
    // A command whose outcome is unknown (the connection dropped, a timeout fired while
    // ipvsadm ran) may still have taken effect: the rules read back decide, not exit codes.
    if (snapshot && snapshot.version !== p.snapshot.version) changedSomething = true;
    if (snapshot && error === null) {
      const mismatch = verify(p, snapshot);
      if (mismatch) error = mismatch;
      else verified = true;
    }
  } else {
    snapshot = p.snapshot;
    verified = true;
  }

  return {
    result: {
      directorId: p.director.id,
      ok: error === null,
      steps,
      error,
      verified,
      version: snapshot?.version ?? null,
    },
    snapshot,
    changedSomething,
  };
}

/** Compares the read-back with the intent; names the command behind the first difference. */
function verify(p: PlannedDirector, snapshot: DirectorSnapshot): ErrorJson | null {
  const differences = diffRules(p.intended, rulesOf(snapshot.services));
  const sysctlDifferences = Object.entries(p.intendedSysctls)
    .filter(([name, value]) => snapshot.sysctls[name]?.[0] !== value)
    .map(([name, value]) => ({
      name,
      expected: value,
      actual: snapshot.sysctls[name] ?? null,
      text: `net.ipv4.vs.${name} is ${(snapshot.sysctls[name] ?? []).join(" ") || "missing"}, not ${value}`,
    }));
  if (differences.length === 0 && sysctlDifferences.length === 0) return null;

  const first = differences[0];
  const step = first
    ? (p.steps.find((s) => mentions(s.argv, first)) ?? p.steps[p.steps.length - 1])
    : (p.steps.find((s) => s.argv[0] === "sysctl") ?? p.steps[p.steps.length - 1]);
  const command = step?.argv ?? [];
  const texts = [...differences.map((d) => d.text), ...sysctlDifferences.map((d) => d.text)];
  return {
    code: "VERIFY_FAILED",
    message: `${p.director.id}: after \`${command.join(" ")}\` the director does not hold what was meant: ${texts.join("; ")}`,
    details: {
      directorId: p.director.id,
      director: p.director.id,
      command,
      differences,
      sysctls: sysctlDifferences,
    },
  };
}

function mentions(argv: readonly string[], change: RuleChange): boolean {
  const service =
    change.service.kind === "fwm" ? String(change.service.mark) : formatEndpoint(change.service);
  if (!argv.includes(service)) return false;
  if (
    change.kind === "serviceAdded" ||
    change.kind === "serviceRemoved" ||
    change.kind === "serviceEdited"
  )
    return true;
  return argv.includes(formatEndpoint(change.realserver));
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
  const first = failed[0]?.result.error;
  return {
    result: "failed",
    error: first
      ? { ...first, details: { ...first.details, results: outcomes.map((o) => o.result) } }
      : { code: "INTERNAL", message: "the change failed", details: {} },
  };
}

// ---- the public API for one change ----

function changeOperation(clusterId: string, change: Change): ClusterOperation {
  return {
    clusterId,
    action: "change",
    summary: summarizeChange(change),
    change,
    changesFor: () => [change],
    warningsFor: (directorId, snapshot) => [
      ...changeWarnings(directorId, snapshot, change),
      ...changeUndoWarnings(directorId, snapshot, change),
    ],
  };
}

/** What on the director will undo a realserver change made now (its owner view). */
function changeUndoWarnings(
  directorId: string,
  snapshot: DirectorSnapshot,
  change: Change,
): PreflightWarning[] {
  const owner = snapshot.owner;
  if (change.kind === "setWeight" || change.kind === "drain")
    return undoWarnings({
      directorId,
      owner,
      realserver: change.realserver,
      ...(change.kind === "setWeight" ? { only: change.service } : {}),
      change: "weight",
    });
  if (change.kind === "editRealserver" || change.kind === "removeRealserver")
    return undoWarnings({
      directorId,
      owner,
      realserver: { address: change.realserver.address, port: change.realserver.port },
      only: change.service,
      change: change.kind === "editRealserver" ? "weight" : "remove",
    });
  return [];
}

/** A weight set to 0 is a drain of one service: the same warnings apply. */
function changeWarnings(
  directorId: string,
  snapshot: DirectorSnapshot,
  change: Change,
): PreflightWarning[] {
  const services = rulesOf(snapshot.services);
  if (change.kind === "setWeight" && change.weight === 0) {
    return drainWarnings({
      directorId,
      services,
      sysctls: snapshot.sysctls,
      realserver: change.realserver,
      only: change.service,
    });
  }
  if (change.kind === "editRealserver" && change.realserver.weight === 0) {
    return drainWarnings({
      directorId,
      services,
      sysctls: snapshot.sysctls,
      realserver: { address: change.realserver.address, port: change.realserver.port },
      only: change.service,
    });
  }
  if (change.kind === "drain") {
    return drainWarnings({
      directorId,
      services,
      sysctls: snapshot.sysctls,
      realserver: change.realserver,
    });
  }
  return [];
}

export function previewChange(clusterId: string, change: Change): Promise<ChangePreview> {
  return previewOperation(changeOperation(clusterId, change));
}

export function applyChange(input: {
  clusterId: string;
  change: Change;
  expectedVersions: Record<string, string>;
  user: Actor;
}): Promise<ApplyResult> {
  return applyOperation(changeOperation(input.clusterId, input.change), {
    expectedVersions: input.expectedVersions,
    user: input.user,
  });
}
