/**
 * A drain's progress, read once or watched through the live pollers.
 */
import "server-only";
import { ConsoleError } from "@/server/errors";
import { getDrain, observeDrainProgress } from "@/server/db/drains";
import { directorIo } from "./io";
import { LatestValues } from "@/server/live/stream";
import {
  type DirectorReading,
  type DrainProgress,
  currentReading,
  drainProgress,
} from "./drain-progress";

/** Reads every director of the drain's cluster once and records drained/draining. */
export async function readDrainProgress(drainId: number): Promise<DrainProgress> {
  const drain = getDrain(drainId);
  if (!drain) throw new ConsoleError("NOT_FOUND", `there is no drain ${drainId}`, { drainId });
  const io = directorIo();
  const cluster = io.getCluster(drain.clusterId);
  const reads = await Promise.allSettled(cluster.directors.map((d) => io.readSnapshot(d)));
  const failed = reads.find((r) => r.status === "rejected");
  if (reads.every((r) => r.status === "rejected") && failed) throw failed.reason;
  const progress = drainProgress(
    drain,
    reads.map((r, i) =>
      r.status === "fulfilled"
        ? currentReading({ snapshot: r.value })
        : {
            directorId: cluster.directors[i]?.id ?? "?",
            snapshot: null,
            reachability: "unreachable",
          },
    ),
  );
  if (!failed) observeDrainProgress(drain.id, progress.drained);
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
    const progress = drainProgress(drain, [...latest.values()]);
    if (progress.waitingFor.length === 0) observeDrainProgress(drain.id, progress.drained);
    yield progress;
  }
}
