/**
 * Lasting changes to keepalived-owned services, on EVERY director of a cluster: each
 * director's own config is read (owner read), the change planned against it (its layout
 * may differ), and applied by one transaction script per director (tx-script.ts): lock,
 * hash check, copy, atomic write, `keepalived -t`, reload, kernel verified. A drain sets
 * the runtime weight first, so new connections stop at once. One director failing after
 * another succeeded is PARTIAL; retrying finishes it, as a director already matching is
 * "nothing to do".
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { setWeight } from "@/server/ipvs/commands";
import type { FileChange } from "@/server/ipvs/keepalived";
import {
  ownerFilesVersion,
  planLasting,
  type LastingChange,
  type LastingPlan,
} from "@/server/ipvs/lasting/plan";
import { parseTxOutput, TX_SCRIPT, txArgs, type TxOutcome } from "@/server/ipvs/lasting/tx-script";
import { sameEndpoint, sameServiceKey, type RuleSet } from "@/server/ipvs/model";
import { readOwner } from "@/server/live/owner";
import { ownerView } from "@/server/live/owner-view";
import { readSnapshot } from "@/server/live/snapshot";
import { getSshPool } from "@/server/db/ssh-pool";
import type { SshPool } from "@/server/ssh/pool";

export interface LastingDirectorPreview {
  directorId: string;
  configPath: string;
  /** Hash over the owner's files as read: part of the version the operator previewed. */
  filesVersion: string;
  /** ipvsadm commands run first (a drain's runtime weight), argv each. */
  commands: string[][];
  files: FileChange[];
  /** Unified-style diff of `files`, for the plan dialog and the audit log. */
  diff: string;
  steps: string;
  notes: string[];
  nothingToDo: boolean;
  /** The member's weight in the config before the change (what an undrain writes back). */
  previousWeight: number | null;
  plan: LastingPlan;
}

export interface LastingDirectorResult {
  directorId: string;
  status: "applied" | "nothing-to-do" | "failed" | "conflict";
  outcome: TxOutcome | null;
  message: string;
}

export function unifiedDiff(files: readonly FileChange[]): string {
  const out: string[] = [];
  for (const f of files) {
    out.push(`--- ${f.file}`, `+++ ${f.file}`);
    for (const c of f.changes) {
      out.push(`@@ -${c.oldStart},${c.oldLines.length} +${c.newStart},${c.newLines.length} @@`);
      out.push(...c.oldLines.map((l) => `-${l}`), ...c.newLines.map((l) => `+${l}`));
    }
  }
  return out.join("\n");
}

function kernelRules(services: RuleSet["services"]): RuleSet {
  return { services };
}

/** Plans the change on one director; refusals and unreadable owners are typed errors. */
async function previewOne(
  pool: SshPool,
  director: DirectorConfig,
  change: LastingChange,
  at: Date,
): Promise<LastingDirectorPreview> {
  const [inputs, snapshot] = await Promise.all([
    readOwner(pool, director),
    readSnapshot(director, { mode: "exact" }),
  ]);
  if (inputs === null || inputs.config === null) {
    throw new ConsoleError("UNREACHABLE", `${director.id}: could not read keepalived's config`, {
      directorId: director.id,
    });
  }
  if (inputs.raw.keepalived.pid === null) {
    throw new ConsoleError("REFUSED", `${director.id}: keepalived is not running`, {
      directorId: director.id,
      reason: "keepalived-not-running",
    });
  }
  const config = inputs.config;
  const view = ownerView(inputs, kernelRules(snapshot.services));
  const member = (svc: LastingChange["service"], rs: { address: string; port: number }) =>
    view.services
      .find((s) => sameServiceKey(s.key, svc))
      ?.realservers.find((r) => sameEndpoint(r, rs));
  const plan = planLasting(config, change, {
    configPath: inputs.raw.keepalived.configPath,
    at,
    checkerDown: (svc, rs) => member(svc, rs)?.checker === "down",
  });
  if (!plan.ok) {
    throw new ConsoleError(plan.error.code, `${director.id}: ${plan.error.message}`, {
      ...plan.error.details,
      directorId: director.id,
    });
  }
  const commands: string[][] = [];
  if (change.kind === "weight" && change.weight === 0) {
    const svc = snapshot.services.find((s) => sameServiceKey(s.key, change.service));
    const rs = svc?.realservers.find((r) => sameEndpoint(r, change.realserver));
    if (rs && rs.weight !== 0) commands.push(setWeight(change.service, rs, 0));
  }
  const nothingToDo = plan.plan.files.length === 0 && commands.length === 0;
  return {
    directorId: director.id,
    configPath: inputs.raw.keepalived.configPath,
    filesVersion: ownerFilesVersion(config),
    commands,
    files: plan.plan.files,
    diff: unifiedDiff(plan.plan.files),
    steps: plan.plan.steps,
    notes: plan.plan.notes,
    nothingToDo,
    previousWeight:
      "realserver" in change
        ? (member(change.service, change.realserver)?.configuredWeight ?? null)
        : null,
    plan: plan.plan,
  };
}

export async function previewLasting(
  directors: readonly DirectorConfig[],
  change: LastingChange,
  opts: { pool?: SshPool; at?: Date } = {},
): Promise<LastingDirectorPreview[]> {
  const pool = opts.pool ?? getSshPool();
  const at = opts.at ?? new Date();
  return Promise.all(directors.map((d) => previewOne(pool, d, change, at)));
}

const FAILED: Record<TxOutcome["result"], string> = {
  ok: "applied",
  conflict: "a file changed since the preview",
  "lock-failed": "could not open the lock file",
  "lock-busy": "another change holds the lock",
  "write-failed": "could not write the file",
  "check-failed": "keepalived -t refused the new config; files put back, nothing reloaded",
  "reload-failed": "reload failed; files put back",
  "verify-timeout": "the kernel did not match after the reload; files put back and reloaded",
  incomplete: "the connection dropped during the change; the next read tells the state",
};

/** Runs one director's transaction; never throws for a failed step (it is in the result). */
export async function runTransaction(
  pool: SshPool,
  director: DirectorConfig,
  plan: LastingPlan,
): Promise<TxOutcome> {
  // It writes keepalived's files and reloads it: a root shell (docs/sudo.md).
  const r = await pool.execScript(director, TX_SCRIPT, {
    rootShell: true,
    args: txArgs(plan.tx),
    timeoutMs: 30_000 + plan.tx.verifyTries * 100,
  });
  const outcome = parseTxOutput(r.stdout);
  if (outcome.result === "incomplete" && r.stderr) outcome.stderr ||= r.stderr.trim();
  return outcome;
}

/**
 * Applies a preview. `previewed` maps director id to the filesVersion the operator saw: a
 * different one now is a CONFLICT before anything is done anywhere.
 */
export async function applyLasting(
  directors: readonly DirectorConfig[],
  change: LastingChange,
  previewed: Record<string, string> | null,
  opts: { pool?: SshPool; previews?: LastingDirectorPreview[] } = {},
): Promise<LastingDirectorResult[]> {
  const pool = opts.pool ?? getSshPool();
  // Fresh previews, or ones read just now by the caller (the hash check in the script still guards).
  const previews = opts.previews ?? (await previewLasting(directors, change, { pool }));
  if (previewed) {
    const moved = previews.filter((p) => previewed[p.directorId] !== p.filesVersion);
    if (moved.length > 0) {
      throw new ConsoleError(
        "CONFLICT",
        `keepalived's files changed since the preview on ${moved.map((p) => p.directorId).join(", ")}`,
        { directors: moved.map((p) => p.directorId) },
      );
    }
  }
  const results = await Promise.all(
    previews.map(async (p): Promise<LastingDirectorResult> => {
      const director = directors.find((d) => d.id === p.directorId);
      if (!director || p.nothingToDo) {
        return { directorId: p.directorId, status: "nothing-to-do", outcome: null, message: "" };
      }
      for (const argv of p.commands) await pool.execChecked(director, argv, { timeoutMs: 10_000 });
      if (p.files.length === 0) {
        return { directorId: p.directorId, status: "applied", outcome: null, message: "" };
      }
      const outcome = await runTransaction(pool, director, p.plan);
      const status =
        outcome.result === "ok" ? "applied" : outcome.result === "conflict" ? "conflict" : "failed";
      const where = outcome.conflict ? ` (${outcome.conflict.path})` : "";
      const stderr = outcome.stderr ? `: ${outcome.stderr}` : "";
      return {
        directorId: p.directorId,
        status,
        outcome,
        message: `${p.directorId}: ${FAILED[outcome.result]}${where}${stderr}`,
      };
    }),
  );
  const bad = results.filter((r) => r.status === "failed" || r.status === "conflict");
  if (bad.length === 0) return results;
  const good = results.filter((r) => r.status === "applied");
  throw new ConsoleError(
    good.length > 0
      ? "PARTIAL"
      : bad.some((r) => r.status === "conflict")
        ? "CONFLICT"
        : "COMMAND_FAILED",
    bad.map((r) => r.message).join("; "),
    { results },
  );
}
