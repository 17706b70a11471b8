/**
 * What changes and drains need from the outside world: the clusters, a fresh snapshot of a
 * director, running one argv on it, and the live poller's snapshots. One seam, so the apply
 * logic (conflicts, partial results, verification) is unit-tested with a fake director and
 * integration-tested with the lab.
 */
import "server-only";
import type { ClusterConfig, DirectorConfig } from "@/server/config";
import { followDirector } from "@/server/live/registry";
import { readSnapshot } from "@/server/live/snapshot";
import type { DirectorStatus, DirectorSnapshot } from "@/server/live/types";
import { getSshPool } from "@/server/db/ssh-pool";
import { getConfig } from "@/server/config";
import { getCluster } from "@/server/config/directors";
import { applyLocked, type LockedApplyOptions, type LockedRun } from "./locked-apply";

export type { LockedRun } from "./locked-apply";

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface DirectorIo {
  /** Throws ConsoleError NOT_FOUND for an unknown cluster. */
  getCluster(clusterId: string): ClusterConfig;
  /**
   * A fresh FULL read (thresholds and tunnel types included), never the poller's cached or
   * light one: changes decide on it, and its version is the one conflicts are checked against.
   * `lane` "change" (an apply's reads, before and after) may use the channel reads leave
   * free, so an apply never waits behind viewers' reads; previews read in lane "read".
   */
  readSnapshot(director: DirectorConfig, lane?: "read" | "change"): Promise<DirectorSnapshot>;
  /** Transport problems throw (typed ConsoleErrors); a non-zero exit is a normal outcome. */
  exec(
    director: DirectorConfig,
    argv: string[],
    options: { timeoutMs: number },
  ): Promise<ExecOutcome>;
  /**
   * A change's steps as one step on the director (locked-apply.ts): under its lock, the
   * rules are read and handed to `gate`; the commands run only if it resolves true, then
   * the rules are read again. A refused lock is a result, transport problems throw.
   */
  applyLocked(
    director: DirectorConfig,
    steps: readonly string[][],
    gate: (locked: DirectorSnapshot) => Promise<boolean>,
    options: Pick<LockedApplyOptions, "timeoutMs" | "planned">,
  ): Promise<LockedRun>;
  /**
   * The shared live poller's statuses for one director (no SSH work of its own), starting
   * with the current one when there is one; returns the unsubscribe function.
   */
  watch(director: DirectorConfig, listener: (status: DirectorStatus) => void): () => void;
  /**
   * How old a read previews may reuse (shared-reads.ts): the poll interval. Absent (fakes):
   * 0, previews share only a read that is running.
   */
  readonly previewMaxAgeMs?: number;
}

const realIo: DirectorIo = {
  getCluster: (clusterId) => getCluster(clusterId),
  readSnapshot: (director, lane = "read") => readSnapshot(director, { mode: "exact", lane }),
  exec: (director, argv, options) => getSshPool().exec(director, argv, options),
  applyLocked: (director, steps, gate, options) => applyLocked(director, steps, gate, options),
  watch: (director, listener) => followDirector(director.id, listener),
  get previewMaxAgeMs() {
    return getConfig().pollIntervalMs;
  },
};

let current: DirectorIo = realIo;

export function directorIo(): DirectorIo {
  return current;
}

/** Tests only: swap in a fake director; returns a function that restores the real one. */
export function setDirectorIo(io: DirectorIo): () => void {
  current = io;
  return () => {
    current = realIo;
  };
}
