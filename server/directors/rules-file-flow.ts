/**
 * "Save running rules" and "Restore saved rules" on a director whose rules load from an
 * ipvsadm-save rules file at boot (/etc/ipvsadm.rules with AUTO, /etc/sysconfig/ipvsadm).
 * Save writes the file (rules-save.ts: lock, hash check, copy, atomic write); restore runs
 * the ipvsadm commands that make the kernel hold the file's rules, then reads the kernel
 * back. Services keepalived owns are left out of both (keepalived programs them). Each has
 * a preview (file diff, or exact commands), a version the apply must find again (kernel
 * rules and file text, else CONFLICT before anything runs), and an audit entry.
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { getDirector } from "@/server/config/directors";
import { finishAttempt, recordAttempt } from "@/server/db/audit";
import { getSshPool } from "@/server/db/ssh-pool";
import { ConsoleError, toErrorJson } from "@/server/errors";
import { programmedServices } from "@/server/ipvs/keepalived";
import { sha256 } from "@/server/ipvs/lasting/tx-script";
import { sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import { parseSaved } from "@/server/ipvs/parse/saved";
import type { ServiceWithRealservers } from "@/server/ipvs/rules";
import { syncCommands } from "@/server/ipvs/sync-commands";
import { readOwner } from "@/server/live/owner";
import type { SshPool } from "@/server/ssh/pool";
import { runTransaction, unifiedDiff } from "./lasting";
import { AUDIT_RESULT, runCommands } from "./pair";
import { previewRulesSave, type RulesSavePreview } from "./rules-save";

export interface RulesFileAction {
  directorId: string;
  action: "save" | "restore";
  path: string | null;
  warning: string | null;
  /** save: the file's unified diff. */
  diff: string;
  /** restore: the ipvsadm commands, in order. */
  commands: string[][];
  changes: string[];
  steps: string;
  nothingToDo: boolean;
  version: string;
}

function saveAction(directorId: string, p: RulesSavePreview): RulesFileAction {
  return {
    directorId,
    action: "save",
    path: p.path,
    warning: p.warning,
    diff: p.file ? unifiedDiff([p.file]) : "",
    commands: [],
    changes: [],
    steps:
      p.plan?.steps ?? (p.path ? `nothing to do: ${p.path} already holds the running rules` : ""),
    nothingToDo: p.plan === null,
    version: p.version,
  };
}

export async function previewSave(
  directorId: string,
  opts: { pool?: SshPool } = {},
): Promise<RulesFileAction> {
  return saveAction(directorId, await previewRulesSave(getDirector(directorId), opts));
}

interface RestoreRead {
  action: RulesFileAction;
  wanted: ServiceWithRealservers[];
  keepalived: ServiceKey[];
}

function outside(keys: readonly ServiceKey[]) {
  return (s: ServiceWithRealservers) => !keys.some((k) => sameServiceKey(k, s.key));
}

async function readRestore(pool: SshPool, director: DirectorConfig): Promise<RestoreRead> {
  const [inputs, save] = await Promise.all([
    readOwner(pool, director),
    pool.execChecked(director, ["ipvsadm-save", "-n"], { timeoutMs: 10_000 }),
  ]);
  if (inputs === null) {
    throw new ConsoleError("UNREACHABLE", `${director.id}: could not read who owns the rules`, {
      directorId: director.id,
    });
  }
  const rf = inputs.rulesFile;
  if (rf === null || !rf.bootLoads) {
    throw new ConsoleError(
      "REFUSED",
      `${director.id}: no rules file is loaded at boot (/etc/ipvsadm.rules with AUTO="true" in /etc/default/ipvsadm, or /etc/sysconfig/ipvsadm): nothing to restore`,
      { reason: "no-rules-file", directorId: director.id },
    );
  }
  if (rf.rules === null) {
    throw new ConsoleError(
      "REFUSED",
      `${director.id}: ${rf.error ?? `${rf.path} does not parse`}`,
      {
        reason: "invalid",
        directorId: director.id,
      },
    );
  }
  const keepalived =
    inputs.raw.keepalived.pid !== null && inputs.config
      ? programmedServices(inputs.config).services.map((s) => s.key)
      : [];
  const kernel = parseSaved(save.stdout).services.filter(outside(keepalived));
  const wanted = rf.rules.services.filter(outside(keepalived));
  const sync = syncCommands(kernel, wanted);
  return {
    wanted,
    keepalived,
    action: {
      directorId: director.id,
      action: "restore",
      path: rf.path,
      warning:
        keepalived.length > 0
          ? `keepalived's ${keepalived.length} service(s) are left alone: keepalived programs them`
          : null,
      diff: "",
      commands: sync.argv,
      changes: sync.changes.map((c) => c.text),
      steps:
        sync.argv.length === 0
          ? `nothing to do: the kernel already holds ${rf.path}`
          : `run ${sync.argv.length} ipvsadm command(s), then read the kernel back`,
      nothingToDo: sync.argv.length === 0,
      version: sha256(`${save.stdout}\0${inputs.raw.rulesFiles[rf.path] ?? ""}`),
    },
  };
}

export async function previewRestore(
  directorId: string,
  opts: { pool?: SshPool } = {},
): Promise<RulesFileAction> {
  return (await readRestore(opts.pool ?? getSshPool(), getDirector(directorId))).action;
}

function checkVersion(action: RulesFileAction, expected: string) {
  if (action.version !== expected) {
    throw new ConsoleError(
      "CONFLICT",
      `${action.directorId}: the rules or ${action.path ?? "the rules file"} changed since the preview: look again`,
      { directors: [action.directorId] },
    );
  }
}

async function doSave(pool: SshPool, director: DirectorConfig, expectedVersion: string) {
  const p = await previewRulesSave(director, { pool });
  const action = saveAction(director.id, p);
  checkVersion(action, expectedVersion);
  if (p.plan === null) {
    if (p.path === null) {
      throw new ConsoleError("REFUSED", `${director.id}: ${p.warning ?? "no rules file"}`, {
        reason: "no-rules-file",
        directorId: director.id,
      });
    }
    return { action, outcome: null };
  }
  const outcome = await runTransaction(pool, director, p.plan);
  if (outcome.result !== "ok") {
    throw new ConsoleError(
      outcome.result === "conflict" ? "CONFLICT" : "COMMAND_FAILED",
      `${director.id}: saving to ${p.path ?? "?"} failed: ${outcome.result}${outcome.stderr ? `: ${outcome.stderr}` : ""}; the old file is unchanged`,
      { directorId: director.id, outcome },
    );
  }
  return { action, outcome };
}

async function doRestore(pool: SshPool, director: DirectorConfig, expectedVersion: string) {
  const r = await readRestore(pool, director);
  checkVersion(r.action, expectedVersion);
  const done: string[] = [];
  await runCommands(pool, director, r.action.commands, done);
  // The read-back: the kernel (keepalived's services aside) must now hold the file's rules.
  const save = await pool.execChecked(director, ["ipvsadm-save", "-n"], { timeoutMs: 10_000 });
  const left = syncCommands(
    parseSaved(save.stdout).services.filter(outside(r.keepalived)),
    r.wanted,
  );
  if (left.argv.length > 0) {
    throw new ConsoleError(
      "VERIFY_FAILED",
      `${director.id}: the kernel does not hold ${r.action.path ?? "the file"} after the restore: ${left.changes.map((c) => c.text).join("; ")}`,
      { directorId: director.id, done },
    );
  }
  return { action: r.action, outcome: null };
}

/** Runs a save or restore after its preview, with an audit entry. */
export async function applyRulesFileAction(input: {
  directorId: string;
  action: "save" | "restore";
  expectedVersion: string;
  user: { name: string; remoteAddress: string | null };
  pool?: SshPool;
}) {
  const pool = input.pool ?? getSshPool();
  const director = getDirector(input.directorId);
  const id = recordAttempt({
    user: input.user.name,
    remoteAddress: input.user.remoteAddress,
    action: `rules.${input.action}`,
    clusterId: director.clusterId,
    directors: [director.id],
    summary:
      input.action === "save"
        ? `save the running rules of ${director.id} to its rules file`
        : `restore ${director.id}'s rules from its rules file`,
    change: { action: input.action },
  });
  try {
    const run = input.action === "save" ? doSave : doRestore;
    const { action, outcome } = await run(pool, director, input.expectedVersion);
    finishAttempt(id, {
      result: "ok",
      argv: { [director.id]: action.commands },
      details: { path: action.path, diff: action.diff, changes: action.changes, outcome },
    });
    return { ...action, status: action.nothingToDo ? "nothing-to-do" : "applied", outcome };
  } catch (error) {
    const e = error instanceof ConsoleError ? error : new ConsoleError("INTERNAL", String(error));
    finishAttempt(id, {
      result: AUDIT_RESULT[e.code] ?? "failed",
      error: toErrorJson(e),
      details: e.details,
    });
    throw e;
  }
}
