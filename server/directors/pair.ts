/**
 * "The pair stays identical": what differs between two directors of a cluster (kernels per
 * service and realserver, keepalived configs per virtual_server block), and "make B like A"
 * (or the reverse): planned against the TARGET's own owner read (its files may differ in
 * layout and VRRP settings), previewed with the exact file diff and ipvsadm commands,
 * refused with CONFLICT when either director's rules or files moved since the preview,
 * applied (keepalived's transaction script, then the ipvsadm commands), verified by reading
 * both back (the target then matches the source), and recorded in the audit log.
 *
 * A failure after a part was applied is PARTIAL, naming what ran and what did not; running
 * the same action again finishes it (the plan is made from the state found then).
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { finishAttempt, recordAttempt, type AuditResult } from "@/server/db/audit";
import { getSshPool } from "@/server/db/ssh-pool";
import { ConsoleError, toErrorJson } from "@/server/errors";
import { sameEndpoint, sameServiceKey } from "@/server/ipvs/model";
import {
  diffPair,
  planPairSync,
  sideVersion,
  type PairDiff,
  type PairSide,
  type PairSyncPlan,
} from "@/server/ipvs/pair-diff";
import type { TxOutcome } from "@/server/ipvs/lasting/tx-script";
import { readOwner } from "@/server/live/owner";
import { ownerView } from "@/server/live/owner-view";
import { readSnapshot } from "@/server/live/snapshot";
import type { SshPool } from "@/server/ssh/pool";
import { directorIo } from "./io";
import { runTransaction, unifiedDiff } from "./lasting";

interface SideRead {
  director: DirectorConfig;
  side: PairSide;
  configPath: string;
  version: string;
}

async function readSide(pool: SshPool, director: DirectorConfig): Promise<SideRead> {
  const [inputs, snapshot] = await Promise.all([
    readOwner(pool, director),
    readSnapshot(director, { mode: "exact", pool }),
  ]);
  if (inputs === null) {
    throw new ConsoleError("UNREACHABLE", `${director.id}: could not read who owns the rules`, {
      directorId: director.id,
    });
  }
  const running = inputs.raw.keepalived.pid !== null;
  const view = ownerView(inputs, { services: snapshot.services });
  const side: PairSide = {
    directorId: director.id,
    services: snapshot.services,
    keepalived: running ? inputs.config : null,
    checkerDown: (svc, rs) =>
      view.services
        .find((s) => sameServiceKey(s.key, svc))
        ?.realservers.find((r) => sameEndpoint(r, rs))?.checker === "down",
  };
  return {
    director,
    side,
    configPath: inputs.raw.keepalived.configPath,
    version: sideVersion(side),
  };
}

function pairOf(clusterId: string, ids?: { a: string; b: string }) {
  const cluster = directorIo().getCluster(clusterId);
  const find = (id: string) => {
    const d = cluster.directors.find((x) => x.id === id);
    if (!d) {
      throw new ConsoleError("NOT_FOUND", `cluster ${clusterId} has no director ${id}`, {
        clusterId,
        directorId: id,
      });
    }
    return d;
  };
  if (ids) {
    if (ids.a === ids.b) {
      throw new ConsoleError("VALIDATION", "pick two different directors", {
        fields: { target: "the same director as the source" },
      });
    }
    return [find(ids.a), find(ids.b)] as const;
  }
  const [a, b] = cluster.directors;
  if (!a || !b) {
    throw new ConsoleError("REFUSED", `cluster ${clusterId} has fewer than two directors`, {
      reason: "invalid",
    });
  }
  return [a, b] as const;
}

export interface PairDiffView extends PairDiff {
  versions: Record<string, string>;
}

/** What differs between the cluster's two directors (the first two, unless named). */
export async function readPairDiff(
  clusterId: string,
  ids?: { a: string; b: string },
  opts: { pool?: SshPool } = {},
): Promise<PairDiffView> {
  const pool = opts.pool ?? getSshPool();
  const [a, b] = await Promise.all(pairOf(clusterId, ids).map((d) => readSide(pool, d)));
  if (!a || !b) throw new ConsoleError("INTERNAL", "pair read lost a director");
  return {
    ...diffPair(a.side, b.side),
    versions: { [a.director.id]: a.version, [b.director.id]: b.version },
  };
}

export interface PairSyncPreview {
  source: string;
  target: string;
  /** The target's keepalived files, as a unified diff ("" when none change). */
  diff: string;
  steps: string;
  commands: string[][];
  changes: string[];
  notes: string[];
  nothingToDo: boolean;
  /** Both directors' versions (kernel rules + config files): the apply must find the same. */
  versions: Record<string, string>;
}

interface Planned {
  preview: PairSyncPreview;
  plan: PairSyncPlan;
  source: SideRead;
  target: SideRead;
}

async function plan(
  pool: SshPool,
  clusterId: string,
  sourceId: string,
  targetId: string,
): Promise<Planned> {
  const [s, t] = pairOf(clusterId, { a: sourceId, b: targetId });
  const [source, target] = await Promise.all([readSide(pool, s), readSide(pool, t)]);
  const r = planPairSync(source.side, target.side, {
    configPath: target.configPath,
    at: new Date(),
  });
  if (!r.ok) throw r.error;
  const p = r.plan;
  const steps = [
    ...(p.keepalived ? [p.keepalived.steps] : []),
    ...(p.commands.length > 0 ? [`run ${p.commands.length} ipvsadm command(s)`] : []),
    ...(p.nothingToDo ? [] : [`read both back: ${targetId} must then match ${sourceId}`]),
  ];
  return {
    plan: p,
    source,
    target,
    preview: {
      source: sourceId,
      target: targetId,
      diff: p.keepalived ? unifiedDiff(p.keepalived.files) : "",
      steps: p.nothingToDo
        ? `nothing to do: ${targetId} already matches ${sourceId}`
        : steps.join(", "),
      commands: p.commands,
      changes: p.changes,
      notes: p.notes,
      nothingToDo: p.nothingToDo,
      versions: { [sourceId]: source.version, [targetId]: target.version },
    },
  };
}

export async function previewPairSync(
  clusterId: string,
  sourceId: string,
  targetId: string,
  opts: { pool?: SshPool } = {},
): Promise<PairSyncPreview> {
  return (await plan(opts.pool ?? getSshPool(), clusterId, sourceId, targetId)).preview;
}

export interface PairSyncResult {
  source: string;
  target: string;
  status: "applied" | "nothing-to-do";
  outcome: TxOutcome | null;
  commands: string[][];
  /** The read-back: the pair's diff after the change (identical). */
  after: PairDiff;
}

/** What ran and what did not, for a PARTIAL or failed sync. */
function failure(
  code: "PARTIAL" | "COMMAND_FAILED",
  message: string,
  done: string[],
  notDone: string[],
  extra: Record<string, unknown>,
): ConsoleError {
  const tail = [
    done.length > 0 ? `done: ${done.join("; ")}` : "nothing was changed",
    notDone.length > 0 ? `not done: ${notDone.join("; ")}` : "",
  ].filter((x) => x !== "");
  return new ConsoleError(code, `${message} (${tail.join("; ")}); run it again to finish`, {
    ...extra,
    done,
    notDone,
  });
}

/**
 * Runs ipvsadm commands in order on one director; the first failure stops it and is thrown
 * as PARTIAL (when `done` holds anything) or COMMAND_FAILED, naming what ran and what did not.
 */
export async function runCommands(
  pool: SshPool,
  director: DirectorConfig,
  commands: readonly string[][],
  done: string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  for (const [i, argv] of commands.entries()) {
    try {
      await pool.execChecked(director, argv, { timeoutMs: 10_000 });
      done.push(argv.join(" "));
    } catch (error) {
      const e = error instanceof ConsoleError ? error : new ConsoleError("INTERNAL", String(error));
      throw failure(
        done.length > 0 ? "PARTIAL" : "COMMAND_FAILED",
        `${director.id}: ${argv.join(" ")} failed: ${e.message}`,
        done,
        commands.slice(i).map((a) => a.join(" ")),
        { ...extra, directorId: director.id, argv, cause: toErrorJson(e) },
      );
    }
  }
}

async function run(pool: SshPool, p: Planned): Promise<PairSyncResult> {
  const { plan: sync, target } = p;
  const done: string[] = [];
  let outcome: TxOutcome | null = null;
  if (sync.keepalived) {
    outcome = await runTransaction(pool, target.director, sync.keepalived);
    if (outcome.result !== "ok") {
      const cmds = sync.commands.map((a) => a.join(" "));
      const code = outcome.result === "conflict" ? "CONFLICT" : "COMMAND_FAILED";
      const where = outcome.conflict ? ` (${outcome.conflict.path} changed)` : "";
      throw new ConsoleError(
        code,
        `${target.director.id}: keepalived's files: ${outcome.result}${where}${outcome.stderr ? `: ${outcome.stderr}` : ""}; files put back, nothing else run (not done: ${[sync.keepalived.steps, ...cmds].join("; ")})`,
        { directorId: target.director.id, outcome },
      );
    }
    done.push(sync.keepalived.steps);
  }
  await runCommands(pool, target.director, sync.commands, done, { outcome });
  // The read-back: both directors again, the target must now match the source.
  const [s2, t2] = await Promise.all([
    readSide(pool, p.source.director),
    readSide(pool, target.director),
  ]);
  const check = diffPair(s2.side, t2.side);
  if (!check.identical) {
    const left = [
      ...check.blocks.filter((b) => b.status !== "same").map((b) => `${b.name}: block ${b.status}`),
      ...check.rules.filter((r) => r.explained === null).map((r) => r.text),
    ];
    throw new ConsoleError(
      "VERIFY_FAILED",
      `${target.director.id} does not match ${p.source.director.id} after the change: ${left.join("; ")}`,
      { directorId: target.director.id, after: check, done, outcome },
    );
  }
  return {
    source: p.source.director.id,
    target: target.director.id,
    status: "applied",
    outcome,
    commands: sync.commands,
    after: check,
  };
}

export const AUDIT_RESULT: Partial<Record<ConsoleError["code"], AuditResult>> = {
  PARTIAL: "partial",
  CONFLICT: "conflict",
  REFUSED: "refused",
  VALIDATION: "refused",
};

/**
 * Makes `targetId` like `sourceId`. `expectedVersions` are the preview's versions of both
 * directors: a different one now is a CONFLICT before anything runs anywhere.
 */
export async function applyPairSync(input: {
  clusterId: string;
  sourceId: string;
  targetId: string;
  expectedVersions: Record<string, string>;
  user: { name: string; remoteAddress: string | null };
  pool?: SshPool;
}): Promise<PairSyncResult> {
  const pool = input.pool ?? getSshPool();
  const id = recordAttempt({
    user: input.user.name,
    remoteAddress: input.user.remoteAddress,
    action: "pair.sync",
    clusterId: input.clusterId,
    directors: [input.targetId],
    summary: `make ${input.targetId} like ${input.sourceId}`,
    change: { source: input.sourceId, target: input.targetId },
  });
  let details: Record<string, unknown> = {};
  try {
    const p = await plan(pool, input.clusterId, input.sourceId, input.targetId);
    details = {
      diff: p.preview.diff,
      steps: p.preview.steps,
      changes: p.preview.changes,
      versions: p.preview.versions,
    };
    const argv = { [input.targetId]: p.plan.commands };
    const moved = [input.sourceId, input.targetId].filter(
      (d) => input.expectedVersions[d] !== p.preview.versions[d],
    );
    if (moved.length > 0) {
      throw new ConsoleError(
        "CONFLICT",
        `the rules or keepalived's files changed since the preview on ${moved.join(" and ")}: look again`,
        { directors: moved },
      );
    }
    if (p.plan.nothingToDo) {
      const result: PairSyncResult = {
        source: input.sourceId,
        target: input.targetId,
        status: "nothing-to-do",
        outcome: null,
        commands: [],
        after: diffPair(p.source.side, p.target.side),
      };
      finishAttempt(id, { result: "ok", argv, details: { ...details, result } });
      return result;
    }
    const result = await run(pool, p);
    finishAttempt(id, { result: "ok", argv, details: { ...details, result } });
    return result;
  } catch (error) {
    const e = error instanceof ConsoleError ? error : new ConsoleError("INTERNAL", String(error));
    const result = AUDIT_RESULT[e.code] ?? "failed";
    finishAttempt(id, { result, error: toErrorJson(e), details: { ...details, error: e.details } });
    throw e;
  }
}
