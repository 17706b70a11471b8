/**
 * Drains: take a realserver out of every service it serves in, on every director of a
 * cluster, by setting its weight to 0 (every other attribute kept: the planner's drain
 * change), and give it back (undrain) or remove it once its connections are gone.
 *
 * The original weights are written to SQLite before any weight changes, so an undrain
 * after a console restart still knows what to put back. Progress: drain-progress.ts,
 * watching it: drain-watch.ts.
 */
import "server-only";
import { ConsoleError } from "@/server/errors";
import { formatServiceKey, sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import type { Change, DrainSelector } from "@/server/ipvs/change";
import { drainTargets } from "@/server/ipvs/planner";
import { finishAttempt, recordAttempt, type Actor } from "@/server/db/audit";
import {
  createDrain,
  findActiveDrain,
  getDrain,
  setDrainState,
  type Drain,
  type DrainOriginal,
} from "@/server/db/drains";
import { applyOperation } from "./apply";
import {
  describeRealserver,
  type DirectorResult,
  type ApplyResult,
  type ChangePreview,
  type ClusterOperation,
} from "./operation";
import { previewOperation } from "./plan";
import { directorIo } from "./io";
import { drainWarnings } from "@/server/ipvs/preflight";
import { currentReading, drainProgress, selectorOf } from "./drain-progress";
import { undoWarnings } from "./owner-warnings";

function drainOperation(
  clusterId: string,
  realserver: DrainSelector,
  setExpireQuiescentTemplate: boolean,
): ClusterOperation {
  const drain: Change = { kind: "drain", realserver };
  return {
    clusterId,
    action: "drain.start",
    summary: `drain ${describeRealserver(realserver)}${setExpireQuiescentTemplate ? " (expire_quiescent_template=1)" : ""}`,
    change: { ...drain, setExpireQuiescentTemplate },
    changesFor: () =>
      setExpireQuiescentTemplate
        ? [{ kind: "setSysctl", setting: { name: "expire_quiescent_template", value: 1 } }, drain]
        : [drain],
    // A director where the realserver serves nowhere simply has nothing to drain.
    tolerate: ["no-such-realserver"],
    warningsFor: (directorId, snapshot) => [
      ...drainWarnings({
        directorId,
        services: snapshot.services,
        sysctls: snapshot.sysctls,
        realserver,
      }),
      ...undoWarnings({ directorId, owner: snapshot.owner, realserver, change: "weight" }),
    ],
  };
}

export function previewDrain(clusterId: string, realserver: DrainSelector): Promise<ChangePreview> {
  return previewOperation(drainOperation(clusterId, realserver, false));
}

export interface DrainStartResult extends ApplyResult {
  drainId: number;
}

function alreadyDraining(clusterId: string, realserver: DrainSelector): ConsoleError | null {
  const active = findActiveDrain(clusterId, {
    address: realserver.address,
    port: realserver.port ?? null,
  });
  if (!active) return null;
  return new ConsoleError(
    "REFUSED",
    `${describeRealserver(active.realserver)} is already being drained (drain ${active.id}, ${active.state}): undrain or remove it first`,
    { reason: "already-draining", drainId: active.id },
  );
}

export async function startDrain(input: {
  clusterId: string;
  realserver: DrainSelector;
  expectedVersions: Record<string, string>;
  setExpireQuiescentTemplate?: boolean;
  user: Actor;
}): Promise<DrainStartResult> {
  const realserver = selectorOf(input.realserver);
  const operation = drainOperation(
    input.clusterId,
    realserver,
    input.setExpireQuiescentTemplate ?? false,
  );
  const refusal = alreadyDraining(input.clusterId, realserver);
  if (refusal) {
    const auditId = recordAttempt({
      user: input.user.name,
      remoteAddress: input.user.remoteAddress ?? null,
      action: operation.action,
      clusterId: input.clusterId,
      directors: directorIo()
        .getCluster(input.clusterId)
        .directors.map((d) => d.id),
      summary: operation.summary,
      change: operation.change,
    });
    const error = new ConsoleError(refusal.code, refusal.message, { ...refusal.details, auditId });
    finishAttempt(auditId, { result: "refused", error: error.toJSON() });
    throw error;
  }
  let drain: Drain | null = null;
  const result = await applyOperation(operation, {
    expectedVersions: input.expectedVersions,
    user: input.user,
    beforeApply: ({ auditId, planned }) => {
      // Checked again inside the cluster lock: two drains of one realserver may race to here.
      const raced = alreadyDraining(input.clusterId, realserver);
      if (raced) throw raced;
      const original: DrainOriginal[] = planned.flatMap(({ directorId, snapshot }) =>
        drainTargets(snapshot.services, realserver).map((t) => ({
          directorId,
          service: t.service,
          port: t.realserver.port,
          weight: t.realserver.weight,
        })),
      );
      drain = createDrain({
        clusterId: input.clusterId,
        realserver: { address: realserver.address, port: realserver.port ?? null },
        user: input.user.name,
        original,
        auditId,
      });
    },
  });
  const recorded = drain as Drain | null;
  if (!recorded) throw new ConsoleError("INTERNAL", "the drain ran without being recorded");
  if (result.result === "failed" && neverTookEffect(result.results, input.expectedVersions)) {
    setDrainState(recorded.id, "undrained", { auditId: result.auditId });
  }
  return { ...result, drainId: recorded.id };
}

/**
 * Whether a failed drain certainly changed nothing, so it can be closed as never started: on
 * every director the kernel refused (a non-zero exit, nothing exited 0), or the rules read
 * back are still the ones planned against. A timeout or a dropped connection without a good
 * read-back may have set the weight: that drain stays open, to be undrained or abandoned.
 */
export function neverTookEffect(
  results: readonly DirectorResult[],
  plannedVersions: Record<string, string>,
): boolean {
  return results.every(
    (r) =>
      r.steps.every((s) => s.exitCode !== null && s.exitCode !== 0) ||
      (r.version !== null && r.version === plannedVersions[r.directorId]),
  );
}

function activeDrain(drainId: number): Drain {
  const drain = getDrain(drainId);
  if (!drain) throw new ConsoleError("NOT_FOUND", `there is no drain ${drainId}`, { drainId });
  if (drain.state !== "draining" && drain.state !== "drained") {
    throw new ConsoleError("REFUSED", `drain ${drainId} is already ${drain.state}`, {
      reason: "drain-finished",
      drainId,
    });
  }
  return drain;
}

/** Whether this drain set the member (service, port) on this director to weight 0. */
function drainedHere(drain: Drain, directorId: string, service: ServiceKey, port: number): boolean {
  return drain.original.some(
    (o) => o.directorId === directorId && o.port === port && sameServiceKey(o.service, service),
  );
}

/** Puts back the weights recorded when the drain started. */
export async function undrain(input: {
  drainId: number;
  expectedVersions: Record<string, string>;
  user: Actor;
}): Promise<ApplyResult> {
  const drain = activeDrain(input.drainId);
  const realserver = selectorOf(drain.realserver);
  const result = await applyOperation(
    {
      clusterId: drain.clusterId,
      action: "drain.undrain",
      summary: `undrain ${describeRealserver(drain.realserver)} (drain ${drain.id})`,
      change: { kind: "undrain", drainId: drain.id, realserver, original: drain.original },
      // A service or member deleted since the drain started has no weight to restore:
      // restoring the others must not be blocked by it (the audit log keeps the record).
      changesFor: (directorId, snapshot) => {
        const present = drainTargets(snapshot.services, realserver);
        const weights = drain.original
          .filter((o) => o.directorId === directorId)
          .filter((o) =>
            present.some(
              (t) => t.realserver.port === o.port && sameServiceKey(t.service, o.service),
            ),
          )
          .map((o) => ({ service: o.service, port: o.port, weight: o.weight }));
        return weights.length ? [{ kind: "undrain", realserver, weights }] : [];
      },
    },
    // Weights already back everywhere (by hand, or a retry after a partial undrain): done.
    { expectedVersions: input.expectedVersions, user: input.user, nothingToDoIsDone: true },
  );
  if (result.ok) setDrainState(drain.id, "undrained", { auditId: result.auditId });
  return result;
}

/**
 * Closes a drain without touching any director (an admin's way out of a drain that cannot be
 * finished: its cluster or director is gone for good, its weights are managed elsewhere now).
 * The reason is kept in the audit log.
 */
export function abandonDrain(input: { drainId: number; reason: string; user: Actor }): Drain {
  const drain = activeDrain(input.drainId);
  const auditId = recordAttempt({
    user: input.user.name,
    remoteAddress: input.user.remoteAddress ?? null,
    action: "drain.abandon",
    clusterId: drain.clusterId,
    directors: [...new Set(drain.original.map((o) => o.directorId))],
    summary:
      `abandon drain ${drain.id} of ${describeRealserver(drain.realserver)}: ${input.reason}`.slice(
        0,
        1000,
      ),
    change: { kind: "abandonDrain", drainId: drain.id, reason: input.reason, state: drain.state },
  });
  finishAttempt(auditId, { result: "ok" });
  setDrainState(drain.id, "abandoned", { auditId });
  const closed = getDrain(drain.id);
  if (!closed) throw new ConsoleError("INTERNAL", `drain ${drain.id} vanished`);
  return closed;
}

/**
 * Removes the drained realserver from every service it serves in, on every director: an
 * explicit step after the drain, allowed only once its connections are gone unless forced.
 */
export async function removeDrained(input: {
  drainId: number;
  expectedVersions: Record<string, string>;
  user: Actor;
  force?: boolean;
}): Promise<ApplyResult> {
  const drain = activeDrain(input.drainId);
  const realserver = selectorOf(drain.realserver);
  const result = await applyOperation(
    {
      clusterId: drain.clusterId,
      action: "drain.remove",
      summary: `remove drained ${describeRealserver(drain.realserver)} (drain ${drain.id})${input.force ? ", forced" : ""}`,
      change: { kind: "removeDrained", drainId: drain.id, realserver, force: input.force ?? false },
      // Only the members this drain set to 0: a member of the same address added since
      // (another VIP, another port) was never drained.
      changesFor: (directorId, snapshot) =>
        drainTargets(snapshot.services, realserver)
          .filter((t) => drainedHere(drain, directorId, t.service, t.realserver.port))
          .map((t): Change => ({
            kind: "removeRealserver",
            service: t.service,
            realserver: { address: t.realserver.address, port: t.realserver.port },
          })),
    },
    {
      expectedVersions: input.expectedVersions,
      user: input.user,
      beforeApply: ({ planned }) => {
        if (input.force) return;
        for (const p of planned) {
          for (const t of drainTargets(p.snapshot.services, realserver)) {
            if (
              t.realserver.weight > 0 &&
              drainedHere(drain, p.snapshot.directorId, t.service, t.realserver.port)
            ) {
              throw new ConsoleError(
                "REFUSED",
                `${describeRealserver(drain.realserver)} has weight ${t.realserver.weight} again in ${formatServiceKey(t.service)} on ${p.snapshot.directorId}: it is serving, not drained`,
                { reason: "not-drained", drainId: drain.id, directorId: p.snapshot.directorId },
              );
            }
          }
        }
        const progress = drainProgress(drain, planned.map(currentReading));
        if (!progress.drained) {
          const { active, inactive, persistent } = progress.totals;
          throw new ConsoleError(
            "REFUSED",
            `${describeRealserver(drain.realserver)} still has connections (${active} active, ${inactive} inactive, ${persistent} persistence templates): wait for the drain, or force the removal`,
            { reason: "not-drained", drainId: drain.id, totals: progress.totals },
          );
        }
      },
    },
  );
  if (result.ok) setDrainState(drain.id, "removed", { auditId: result.auditId });
  return result;
}
