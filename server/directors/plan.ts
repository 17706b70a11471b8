/**
 * Reading and planning: fresh snapshots of every director of a cluster, a plan per director,
 * and the preview the operator confirms.
 */
import "server-only";
import type { DirectorConfig, ClusterConfig } from "@/server/config";
import { ConsoleError, withDetails, type RefusalReason } from "@/server/errors";
import type { IpvsSysctls } from "@/server/ipvs/model";
import { plan, type PlanStep } from "@/server/ipvs/planner";
import type { DirectorSnapshot } from "@/server/live/types";
import { commandLine } from "@/server/ssh/quote";
import { rulesOf } from "@/server/ipvs/rules";
import { alreadyAsIntended, intendedRules } from "@/server/ipvs/intent";
import { directorIo, type DirectorIo } from "./io";
import { SharedReads } from "./shared-reads";
import { rememberSnapshot } from "@/server/live/versions";
import type {
  ChangePreview,
  ClusterOperation,
  DirectorPreview,
  PlannedDirector,
} from "./operation";

// Per io: a test's fake director gets reads of its own.
const previewReadsByIo = new WeakMap<DirectorIo, SharedReads<DirectorSnapshot>>();

function previewReads(io: DirectorIo): SharedReads<DirectorSnapshot> {
  let reads = previewReadsByIo.get(io);
  if (!reads) {
    reads = new SharedReads<DirectorSnapshot>({
      read: (director) => io.readSnapshot(director as DirectorConfig, "read"),
      maxAgeMs: () => io.previewMaxAgeMs ?? 0,
    });
    previewReadsByIo.set(io, reads);
  }
  return reads;
}

/** Reads started for previews (tests, the bench): concurrent previews share them. */
export function previewReadsStarted(): number {
  return previewReads(directorIo()).started;
}

/**
 * Runs a change to the cluster's rules: previews do not reuse a read from before it, nor
 * one taken while it ran.
 */
export async function whileChanging<T>(clusterId: string, fn: () => Promise<T>): Promise<T> {
  const reads = previewReads(directorIo());
  reads.forget(clusterId);
  try {
    return await fn();
  } finally {
    reads.forget(clusterId);
  }
}

/**
 * Fresh snapshots of every director of the cluster. "change" (an apply): each its own read,
 * in the lane reads leave free. "read" (a preview): shared with concurrent and recent
 * previews (shared-reads.ts).
 */
export async function readCluster(
  cluster: ClusterConfig,
  lane: "read" | "change",
): Promise<DirectorSnapshot[]> {
  const io = directorIo();
  const shared = previewReads(io);
  const snapshots = await Promise.all(
    cluster.directors.map(async (director) => {
      try {
        return await (lane === "change"
          ? io.readSnapshot(director, "change")
          : shared.get(director));
      } catch (e) {
        throw withDetails(e, { directorId: director.id }, `${director.id}: `);
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
      // Already as asked (a retry after PARTIAL, or its inverse): nothing to do, not a refusal.
      if (alreadyAsIntended(services, change)) {
        firstTolerated ??= {
          reason: "would-change-nothing",
          message: `already as asked: ${p.message}`,
        };
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
export function blockingRefusal(planned: PlannedDirector[]): ConsoleError | null {
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

export function planCluster(
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
  const snapshots = await readCluster(cluster, "read");
  const planned = planCluster(op, cluster, snapshots);
  return {
    versions: Object.fromEntries(snapshots.map((s) => [s.directorId, s.version])),
    perDirector: planned.map(previewOf),
    warnings: op.warningsFor
      ? snapshots.flatMap((s) => op.warningsFor?.(s.directorId, s) ?? [])
      : [],
  };
}
