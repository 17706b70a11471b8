/**
 * The operator's lasting change on a cluster: preview on every director, then apply with the
 * previewed files versions, recorded in the audit log with each director's file diff next
 * to its ipvsadm commands, and the transaction's outcome (steps, timings, stderr).
 */
import "server-only";
import { finishAttempt, listAudit, recordAttempt } from "@/server/db/audit";
import { ConsoleError, toErrorJson } from "@/server/errors";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import { directorIo } from "./io";
import { applyLasting, previewLasting, type LastingDirectorResult } from "./lasting";
import { whileChanging } from "./plan";

export function lastingSummary(change: LastingChange): string {
  const svc = formatServiceKey(change.service);
  switch (change.kind) {
    case "weight":
      return `lasting weight ${svc} ${formatEndpoint(change.realserver)} -> ${change.weight}`;
    case "add-realserver":
      return `lasting add ${svc} ${formatEndpoint(change.realserver)} weight ${change.realserver.weight}`;
    case "remove-realserver":
      return `lasting remove ${svc} ${formatEndpoint(change.realserver)}`;
    case "edit-service":
      return `lasting edit ${svc} ${JSON.stringify(change.changes)}`;
    case "add-service":
      return `lasting add service ${svc} with ${change.spec.realservers.map(formatEndpoint).join(", ")}`;
    case "delete-service":
      return `lasting delete service ${svc}`;
  }
}

/** What the plan dialog shows per director (no file texts beyond the diff). */
export async function previewLastingChange(clusterId: string, change: LastingChange) {
  const cluster = directorIo().getCluster(clusterId);
  const previews = await previewLasting(cluster.directors, change);
  return previews.map((p) => ({
    directorId: p.directorId,
    configPath: p.configPath,
    filesVersion: p.filesVersion,
    commands: p.commands,
    diff: p.diff,
    steps: p.steps,
    notes: p.notes,
    nothingToDo: p.nothingToDo,
    previousWeight: p.previousWeight,
  }));
}

type LastingInput = {
  clusterId: string;
  change: LastingChange;
  expectedFilesVersions: Record<string, string> | null;
  user: { name: string; remoteAddress: string | null };
};

export function applyLastingChange(input: LastingInput): Promise<LastingDirectorResult[]> {
  // keepalived may rewrite the rules at once: previews must not reuse a read from before.
  return whileChanging(input.clusterId, () => applyLastingNow(input));
}

async function applyLastingNow(input: LastingInput): Promise<LastingDirectorResult[]> {
  const cluster = directorIo().getCluster(input.clusterId);
  const previews = await previewLasting(cluster.directors, input.change);
  const id = recordAttempt({
    user: input.user.name,
    remoteAddress: input.user.remoteAddress,
    action: `lasting.${input.change.kind}`,
    clusterId: input.clusterId,
    directors: cluster.directors.map((d) => d.id),
    summary: lastingSummary(input.change),
    change: input.change,
    argv: Object.fromEntries(previews.map((p) => [p.directorId, p.commands])),
  });
  const diffs = Object.fromEntries(
    previews.map((p) => [
      p.directorId,
      { diff: p.diff, steps: p.steps, previousWeight: p.previousWeight },
    ]),
  );
  try {
    const results = await applyLasting(
      cluster.directors,
      input.change,
      input.expectedFilesVersions,
      { previews },
    );
    finishAttempt(id, { result: "ok", details: { diffs, results } });
    return results;
  } catch (error) {
    const e = error instanceof ConsoleError ? error : new ConsoleError("INTERNAL", String(error));
    const result = e.code === "PARTIAL" ? "partial" : e.code === "CONFLICT" ? "conflict" : "failed";
    finishAttempt(id, {
      result,
      error: toErrorJson(e),
      details: { diffs, results: e.details.results ?? null },
    });
    throw e;
  }
}

function recordedWeights(details: unknown): number[] {
  if (typeof details !== "object" || details === null || !("diffs" in details)) return [];
  const diffs = details.diffs;
  if (typeof diffs !== "object" || diffs === null) return [];
  return Object.values(diffs).flatMap((d: unknown) =>
    typeof d === "object" &&
    d !== null &&
    "previousWeight" in d &&
    typeof d.previousWeight === "number"
      ? [d.previousWeight]
      : [],
  );
}

/**
 * Undrain: the weight the config had before the last lasting drain of this member (from its
 * audit entry), as the change to preview and apply on every director.
 */
export function undrainChange(input: {
  clusterId: string;
  service: LastingChange["service"];
  realserver: { address: string; port: number };
}): LastingChange {
  const drain: LastingChange = {
    kind: "weight",
    service: input.service,
    realserver: input.realserver,
    weight: 0,
  };
  const entry = listAudit({ clusterId: input.clusterId, text: lastingSummary(drain) }).entries.find(
    (e) => e.action === "lasting.weight" && (e.result === "ok" || e.result === "partial"),
  );
  const weights = [...new Set(recordedWeights(entry?.details).filter((w) => w > 0))];
  const weight = weights[0];
  if (weight === undefined || weights.length > 1) {
    throw new ConsoleError(
      "REFUSED",
      weight === undefined
        ? `no lasting drain of ${formatEndpoint(input.realserver)} is recorded: set the weight instead`
        : `the directors had different weights before the drain (${weights.join(", ")}): set the weight instead`,
      { reason: "no-recorded-weight" },
    );
  }
  return { ...drain, weight };
}

/** Undrain without a preview (API callers): the recorded weight, on every director. */
export async function undrainLastingChange(input: {
  clusterId: string;
  service: LastingChange["service"];
  realserver: { address: string; port: number };
  user: { name: string; remoteAddress: string | null };
}) {
  return applyLastingChange({
    clusterId: input.clusterId,
    change: undrainChange(input),
    expectedFilesVersions: null,
    user: input.user,
  });
}
