/**
 * A drain's progress, read once or watched through the live pollers.
 */
import "server-only";
import { ConsoleError } from "@/server/errors";
import { closeDrainAsUndone, getDrain, observeDrainProgress, type Drain } from "@/server/db/drains";
import { consoleExplains } from "@/server/db/outside";
import { OUTSIDE_CONSOLE } from "@/server/live/outside-changes";
import { directorIo } from "./io";
import { LatestValues } from "@/server/live/stream";
import { formatServiceKey } from "@/server/ipvs/model";
import {
  type DirectorReading,
  type DrainProgress,
  currentReading,
  drainProgress,
} from "./drain-progress";

/**
 * Records what every director's current word says: drained or draining, or, when the weights
 * are back and no console attempt made the rules so (an undrain under way or interrupted is
 * the console's own), closes the drain as restored outside the console. That catches a hand
 * restore the pollers never saw change (the console was down, nobody watched).
 */
function recordProgress(drain: Drain, progress: DrainProgress, readings: DirectorReading[]): void {
  if (drain.state !== "draining" && drain.state !== "drained") return;
  // Only the console's attempts since this drain started: rules restored earlier (an older
  // drain's undrain) hash to the same version and explain nothing about this one.
  const since = Math.max(0, Date.now() - drain.startedAt);
  const explained = readings.some(
    (r) => r.snapshot && consoleExplains(r.directorId, r.snapshot.version, since),
  );
  if (!progress.restored || explained) {
    observeDrainProgress(drain.id, progress.drained);
    return;
  }
  const back = progress.perDirector.flatMap((d) =>
    d.services
      .filter((s) => s.weight > 0)
      .map((s) => `${d.directorId} ${formatServiceKey(s.service)} weight ${s.weight}`),
  );
  closeDrainAsUndone({
    drain,
    by: OUTSIDE_CONSOLE,
    directors: progress.perDirector.map((d) => d.directorId),
    summary: `drain ${drain.id} restored outside the console: ${back.join("; ")}`.slice(0, 1000),
    change: { restored: progress.perDirector },
  });
}

/** Reads every director of the drain's cluster once and records drained/draining/restored. */
export async function readDrainProgress(drainId: number): Promise<DrainProgress> {
  const drain = getDrain(drainId);
  if (!drain) throw new ConsoleError("NOT_FOUND", `there is no drain ${drainId}`, { drainId });
  const io = directorIo();
  const cluster = io.getCluster(drain.clusterId);
  const reads = await Promise.allSettled(cluster.directors.map((d) => io.readSnapshot(d)));
  const failed = reads.find((r) => r.status === "rejected");
  if (reads.every((r) => r.status === "rejected") && failed) throw failed.reason;
  const readings = reads.map((r, i): DirectorReading =>
    r.status === "fulfilled"
      ? currentReading({ snapshot: r.value })
      : {
          directorId: cluster.directors[i]?.id ?? "?",
          snapshot: null,
          reachability: "unreachable",
        },
  );
  const progress = drainProgress(drain, readings);
  if (!failed) recordProgress(drain, progress, readings);
  return progress;
}

/**
 * Progress after every poll of the drain's directors by the live pollers (shared with the
 * live views: no extra SSH traffic), until `signal` aborts. Subscribes before the first
 * yield, so no poll is missed; an unknown drain ends the stream with NOT_FOUND. A director
 * that is unreachable, stale or not polled yet is reported as such (waitingFor) and keeps the
 * drain from counting as drained; the drain's state is recorded only on every director's word.
 */
export async function* watchDrainProgress(
  drainId: number,
  signal?: AbortSignal,
): AsyncGenerator<DrainProgress> {
  const first = getDrain(drainId);
  if (!first) throw new ConsoleError("NOT_FOUND", `there is no drain ${drainId}`, { drainId });
  const io = directorIo();
  const cluster = io.getCluster(first.clusterId);
  const latest = new Map<string, DirectorReading>(
    cluster.directors.map((d) => [
      d.id,
      { directorId: d.id, snapshot: null, reachability: "connecting" },
    ]),
  );
  // The pollers' statuses coalesce: only "something changed since the last yield" matters.
  const changes = new LatestValues<true>((changed) => {
    const offs = cluster.directors.map((director) =>
      io.watch(director, (status) => {
        const before = latest.get(director.id);
        if (before?.snapshot === status.snapshot && before.reachability === status.reachability)
          return;
        latest.set(director.id, {
          directorId: director.id,
          snapshot: status.snapshot,
          reachability: status.reachability,
        });
        changed(true);
      }),
    );
    return () => offs.forEach((off) => off());
  }, signal ?? new AbortController().signal);
  for await (const _changed of changes) {
    const drain = getDrain(drainId) ?? first;
    const readings = [...latest.values()];
    const progress = drainProgress(drain, readings);
    if (progress.waitingFor.length === 0) recordProgress(drain, progress, readings);
    yield progress;
  }
}
