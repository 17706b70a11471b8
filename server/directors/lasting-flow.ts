/**
 * The operator's lasting change on a cluster: preview on every director, then apply with the
 * previewed files versions, recorded in the audit log with each director's file diff next
 * to its ipvsadm commands, and the transaction's outcome (steps, timings, stderr).
 */
import "server-only";
import { finishAttempt, recordAttempt } from "@/server/db/audit";
import { ConsoleError } from "@/server/errors";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import { directorIo } from "./io";
import { applyLasting, previewLasting, type LastingDirectorResult } from "./lasting";

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
  }));
}

export async function applyLastingChange(input: {
  clusterId: string;
  change: LastingChange;
  expectedFilesVersions: Record<string, string> | null;
  user: { name: string; remoteAddress: string | null };
}): Promise<LastingDirectorResult[]> {
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
    previews.map((p) => [p.directorId, { diff: p.diff, steps: p.steps }]),
  );
  try {
    const results = await applyLasting(
      cluster.directors,
      input.change,
      input.expectedFilesVersions,
    );
    finishAttempt(id, { result: "ok", details: { diffs, results } });
    return results;
  } catch (error) {
    const e = error instanceof ConsoleError ? error : new ConsoleError("INTERNAL", String(error));
    const result = e.code === "PARTIAL" ? "partial" : e.code === "CONFLICT" ? "conflict" : "failed";
    finishAttempt(id, {
      result,
      error: { code: e.code, message: e.message, details: e.details },
      details: { diffs, results: e.details.results ?? null },
    });
    throw e;
  }
}
