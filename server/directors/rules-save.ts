/**
 * Rules-file directors: after a change, save the running rules to the file boot loads
 * (/etc/ipvsadm.rules with AUTO in /etc/default/ipvsadm, or /etc/sysconfig/ipvsadm), by
 * the same transaction script as keepalived's files (lock, hash check, timestamped copy,
 * atomic write; no check, no reload). Services keepalived owns stay out of the file.
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { commandFailed } from "@/server/ipvs/errors";
import { sha256, txStamp, type TxOutcome } from "@/server/ipvs/lasting/tx-script";
import { rulesDiffer, rulesFileText } from "@/server/ipvs/lasting/rules-save";
import type { LastingPlan } from "@/server/ipvs/lasting/plan";
import type { FileChange } from "@/server/ipvs/keepalived";
import { diffLines } from "@/server/ipvs/keepalived/text";
import { readOwner } from "@/server/live/owner";
import { ownerView } from "@/server/live/owner-view";
import { getSshPool } from "@/server/db/ssh-pool";
import type { SshPool } from "@/server/ssh/pool";
import { runTransaction } from "./lasting";

export interface RulesSavePreview {
  directorId: string;
  /** null: no rules file loads at boot: "lost at reboot". */
  path: string | null;
  warning: string | null;
  /** File and kernel already differed before this change: the operator chooses. */
  differedBefore: boolean;
  /** The kernel's rules and the file as read: an apply must find the same (else CONFLICT). */
  version: string;
  file: FileChange | null;
  plan: LastingPlan | null;
}

/** Plans saving what runs now; call it after the runtime change (or before, to preview). */
export async function previewRulesSave(
  director: DirectorConfig,
  opts: { pool?: SshPool; at?: Date } = {},
): Promise<RulesSavePreview> {
  const pool = opts.pool ?? getSshPool();
  const [inputs, save] = await Promise.all([
    readOwner(pool, director),
    pool.execChecked(director, ["ipvsadm-save", "-n"], { timeoutMs: 10_000 }),
  ]);
  if (inputs === null) {
    throw new ConsoleError("UNREACHABLE", `${director.id}: could not read who owns the rules`);
  }
  const rf = inputs.rulesFile;
  const version = sha256(
    `${save.stdout}\0${rf === null ? "" : (inputs.raw.rulesFiles[rf.path] ?? "")}`,
  );
  const empty = { directorId: director.id, differedBefore: false, version, file: null, plan: null };
  if (rf === null || !rf.bootLoads) {
    return { ...empty, path: null, warning: "runtime only: lost at reboot" };
  }
  const kernel = { services: [] };
  const keepalived = inputs.config
    ? ownerView(inputs, kernel)
        .services.filter((s) => s.owner.kind === "keepalived")
        .map((s) => s.key)
    : [];
  const before = inputs.raw.rulesFiles[rf.path] ?? "";
  const after = rulesFileText(save.stdout, keepalived);
  const differedBefore = rulesDiffer(before, after);
  if (!differedBefore) return { ...empty, path: rf.path, warning: null };
  const file: FileChange = {
    file: rf.path,
    before,
    after,
    changes: diffLines(rf.path, before, after),
  };
  return {
    directorId: director.id,
    path: rf.path,
    warning: null,
    differedBefore,
    version,
    file,
    plan: {
      files: [file],
      notes: [],
      steps: `save the running rules to ${rf.path} (a copy of the old file is kept)`,
      tx: {
        mode: "rules-file",
        configPath: rf.path,
        stamp: txStamp(opts.at ?? new Date()),
        verifyTries: 0,
        expect: { present: [], absent: [] },
        files: [{ path: rf.path, expectedHash: sha256(before), content: after }],
      },
    },
  };
}

export async function saveRunningRules(
  director: DirectorConfig,
  opts: { pool?: SshPool } = {},
): Promise<{ preview: RulesSavePreview; outcome: TxOutcome | null }> {
  const pool = opts.pool ?? getSshPool();
  const preview = await previewRulesSave(director, { pool });
  if (preview.plan === null) return { preview, outcome: null };
  const outcome = await runTransaction(pool, director, preview.plan);
  if (outcome.result !== "ok") {
    throw commandFailed(
      `${director.id}: saving the rules failed: ${outcome.result} ${outcome.detail}`,
      {
        directorId: director.id,
        argv: ["ipvsadm-save", "-n"],
        exitCode: null,
        stderr: outcome.detail,
      },
      { outcome },
    );
  }
  return { preview, outcome };
}
