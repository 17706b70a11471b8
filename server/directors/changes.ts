/**
 * One change to a cluster's rules (changes.preview / changes.commit): an operation of one
 * change, with the drain warnings a weight of 0 deserves. The steps of an apply are in apply.ts.
 */
import "server-only";
import type { Change } from "@/server/ipvs/change";
import type { DirectorSnapshot } from "@/server/live/types";
import { finishAttempt, recordAttempt, type Actor } from "@/server/db/audit";
import { rulesOf } from "@/server/ipvs/rules";
import { drainWarnings, type PreflightWarning } from "@/server/ipvs/preflight";
import {
  type ApplyResult,
  type ChangePreview,
  type ClusterOperation,
  summarizeChange,
} from "./operation";
import { previewOperation } from "./plan";
import { applyOperation } from "./apply";
import { undoWarnings } from "./owner-warnings";
import { directorIo } from "./io";
import {
  persistWarnings,
  saveAfterChange,
  type RulesFileChoice,
  type RulesFileSaveResult,
} from "./rules-persist";

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
      ...persistWarnings(directorId, snapshot, change),
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

/**
 * Applies one change; with `rulesFile` (the console's dialogs always send it) the running
 * rules are then saved to the boot rules file of every director it reached ("leave": not).
 */
export async function applyChange(input: {
  clusterId: string;
  change: Change;
  expectedVersions: Record<string, string>;
  user: Actor;
  rulesFile?: RulesFileChoice;
  expectedRulesFiles?: Record<string, string>;
}): Promise<ApplyResult & { rulesFiles: RulesFileSaveResult[] }> {
  const result = await applyOperation(changeOperation(input.clusterId, input.change), {
    expectedVersions: input.expectedVersions,
    user: input.user,
  });
  if (input.rulesFile === undefined) return { ...result, rulesFiles: [] };
  const rulesFiles = await saveAfterChange({
    directors: directorIo().getCluster(input.clusterId).directors,
    changed: result.results.filter((r) => r.ok).map((r) => r.directorId),
    change: input.change,
    choice: input.rulesFile,
    expectedHashes: input.expectedRulesFiles,
  });
  auditRulesFiles(input.clusterId, input.user, result.auditId, rulesFiles);
  return { ...result, rulesFiles };
}

/** The boot rules files written (or not) after change #auditId: an audit entry of their own. */
function auditRulesFiles(
  clusterId: string,
  user: Actor,
  changeAuditId: number,
  rulesFiles: readonly RulesFileSaveResult[],
): void {
  if (rulesFiles.length === 0) return;
  const id = recordAttempt({
    user: user.name,
    remoteAddress: user.remoteAddress ?? null,
    action: "rules.save-after-change",
    clusterId,
    directors: rulesFiles.map((r) => r.directorId),
    summary: `boot rules files after change #${changeAuditId}: ${rulesFiles
      .map((r) => `${r.directorId} ${r.message}`)
      .join("; ")}`,
    change: { afterAuditId: changeAuditId },
  });
  const results = rulesFiles.map((r) => r.result);
  const result = results.includes("failed")
    ? "failed"
    : results.includes("conflict")
      ? "conflict"
      : "ok";
  finishAttempt(id, { result, details: rulesFiles });
}
