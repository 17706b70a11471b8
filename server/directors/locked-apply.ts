/**
 * A director's steps under its lock, over SSH (server/live/apply-script.ts): the read made
 * under the lock is parsed exactly as a poll is (so its version is the console's version),
 * handed to `gate`, and the commands run only when the gate says so.
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import type { DirectorSnapshot } from "@/server/live/types";
import { parseSnapshot } from "@/server/live/snapshot-parse";
import {
  ABORT,
  APPLY_LOCK,
  APPLY_SCRIPT,
  applyArgs,
  GO,
  parseApplyOutput,
  readyRead,
  type ApplyScriptResult,
} from "@/server/live/apply-script";
import { getSshPool } from "@/server/db/ssh-pool";
import type { SshPool } from "@/server/ssh/pool";
import { scriptLine } from "@/server/ssh/quote";

/** How long an apply waits for another holder of the director's lock. */
export const LOCK_WAIT_SECONDS = 10;

export interface LockedRun {
  result: ApplyScriptResult;
  lockWaitMs: number | null;
  /** The rules read under the lock, before any command (null: never read). */
  locked: DirectorSnapshot | null;
  /** The commands that ran, in order, with their exit codes. */
  steps: Array<{ exitCode: number; stderr: string }>;
  /** The rules read after the commands, still under the lock. */
  after: DirectorSnapshot | null;
  /** The script's stderr (sudo refusing, a missing flock, ...). */
  stderr: string;
}

export interface LockedApplyOptions {
  timeoutMs: number;
  /** What the snapshots read under the lock keep from the planned one (ipvsadm version, timeouts, owner). */
  planned: DirectorSnapshot;
  pool?: SshPool;
  lockWaitSeconds?: number;
}

export async function applyLocked(
  director: DirectorConfig,
  steps: readonly string[][],
  gate: (locked: DirectorSnapshot) => Promise<boolean>,
  options: LockedApplyOptions,
): Promise<LockedRun> {
  const pool = options.pool ?? getSshPool();
  const parse = (text: string): DirectorSnapshot => {
    const snapshot = parseSnapshot(text, {
      directorId: director.id,
      clusterId: director.clusterId,
      takenAt: Date.now(),
      previous: null,
      cached: { ipvsadm: options.planned.ipvsadm, timeouts: options.planned.timeouts },
      base: null,
    });
    if (options.planned.owner) snapshot.owner = options.planned.owner;
    return snapshot;
  };
  let locked: DirectorSnapshot | null = null;
  // Set inside the reply callback: a holder, so the check after the run is not narrowed away.
  const failed: { error: Error | null } = { error: null };
  const result = await pool.execScript(director, APPLY_SCRIPT, {
    args: applyArgs({
      lock: APPLY_LOCK,
      lockWaitSeconds: options.lockWaitSeconds ?? LOCK_WAIT_SECONDS,
      // Always: a tunnel member added by hand would otherwise make the read fail.
      tunnels: true,
      commandLines: steps.map((argv) => scriptLine(argv, { sudo: director.sudo })),
    }),
    timeoutMs: options.timeoutMs + (options.lockWaitSeconds ?? LOCK_WAIT_SECONDS) * 1000,
    // A change: it may take the channel reads leave free, never waiting behind viewers.
    lane: "change",
    reply: (stdout) => {
      // The script ended without asking (a lock it could not take): sshd keeps the session
      // open until stdin ends, so end it.
      if (parseApplyOutput(stdout).result !== "incomplete") return Promise.resolve(ABORT);
      const text = readyRead(stdout);
      if (text === null) return null;
      try {
        locked = parse(text);
      } catch (e) {
        failed.error = e instanceof Error ? e : new Error(String(e));
        return Promise.resolve(ABORT);
      }
      return gate(locked).then((go) => (go ? GO : ABORT));
    },
  });
  if (failed.error) throw failed.error;
  const out = parseApplyOutput(result.stdout);
  return {
    result: out.result,
    lockWaitMs: out.lockWaitMs,
    locked,
    steps: out.steps,
    after: out.after !== null && out.result === "done" ? parse(out.after) : null,
    stderr: result.stderr,
  };
}
