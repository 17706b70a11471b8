/**
 * The process's pollers (cached on globalThis so dev reloads do not start a second set),
 * wired to the real snapshot reader, and the fleet view built from them.
 */
import "server-only";
import { getConfig } from "@/server/config";
import { allDirectors, findDirector, getDirector } from "@/server/config/directors";
import { rememberSnapshot } from "./versions";
import { observePoll, recordHistory } from "./poll-observer";
import { observeRules } from "./outside-changes";
import { DEFAULT_RETRY, PollerRegistry, type StatusListener } from "./poller";
import { doctorAfterRead } from "./doctor";
import { lastRead, readSnapshot } from "./snapshot";
import { slotOf } from "./spread";
import { fleetDirector, type FleetSummary } from "./fleet-summary";
import type { DirectorStatus, FleetStatus } from "./types";

const globalForPollers = globalThis as typeof globalThis & { __lvsConsolePollers?: PollerRegistry };

export function getPollers(): PollerRegistry {
  globalForPollers.__lvsConsolePollers ??= new PollerRegistry(() => ({
    intervalMs: getConfig().pollIntervalMs,
    retry: DEFAULT_RETRY,
    read: (director, { signal, previous }) =>
      readSnapshot(director, {
        signal,
        previous,
        mode: "poll",
        fullReadEvery: getConfig().fullReadEvery,
      }),
    onSnapshot: (snapshot) => {
      rememberSnapshot(snapshot);
      recordHistory(snapshot);
      const director = findDirector(snapshot.directorId);
      if (director) doctorAfterRead(director, snapshot, lastRead(director.id)?.kind === "full");
      observeRules(snapshot);
    },
    onPoll: observePoll,
    phaseMs: slotOf,
  }));
  return globalForPollers.__lvsConsolePollers;
}

/** Subscribes to one director (NOT_FOUND for an unknown id); returns the unsubscribe function. */
export function watchDirector(directorId: string, listener: StatusListener): () => void {
  return getPollers().watch(getDirector(directorId), listener);
}

/** watchDirector, starting with the current status when the director was polled already. */
export function followDirector(directorId: string, listener: StatusListener): () => void {
  return getPollers().follow(getDirector(directorId), listener);
}

/** The current status of a director, polling it once if nobody watches it. */
export function directorStatus(directorId: string): Promise<DirectorStatus> {
  return getPollers().poller(getDirector(directorId)).pollOnce();
}

/** Whether the directors of a cluster that answered hold different rules. */
export function rulesDiffer(statuses: DirectorStatus[]): boolean {
  const versions = new Set(statuses.flatMap((s) => (s.snapshot ? [s.snapshot.version] : [])));
  return versions.size > 1;
}

export function fleetStatus(): FleetStatus {
  const pollers = getPollers();
  return {
    at: Date.now(),
    clusters: getConfig().clusters.map((cluster) => {
      const directors = cluster.directors.map((d) => pollers.poller(d).current());
      return { id: cluster.id, name: cluster.name, directors, rulesDiffer: rulesDiffer(directors) };
    }),
  };
}

/** Polls finishing this close together go out in one push. */
const COALESCE_MS = 50;
/**
 * A fleet view is pushed at most this often. 500 directors at a 2 s interval finish 250
 * polls a second: pushed as they come, a tab renders 20 times a second and its main thread
 * is never idle (bench:fleet); twice a second is as fast as anyone reads a fleet.
 */
const FLEET_PUSH_MS = 500;

/**
 * Watches every director; calls `listener` with the ids of the directors whose status
 * changed: statuses arriving within COALESCE_MS of each other as one update, and at most one
 * update per FLEET_PUSH_MS.
 */
export function watchFleetChanges(listener: (directorIds: Set<string>) => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let changed = new Set<string>();
  let lastPushAt = 0;
  const push = () => {
    timer = null;
    lastPushAt = Date.now();
    const ids = changed;
    changed = new Set();
    listener(ids);
  };
  const onStatus = (status: DirectorStatus) => {
    changed.add(status.directorId);
    // At most one push per FLEET_PUSH_MS, the first change of a quiet spell at once (after
    // the few ms that gather a pair's polls).
    timer ??= setTimeout(push, Math.max(COALESCE_MS, lastPushAt + FLEET_PUSH_MS - Date.now()));
  };
  const offs = allDirectors().map((d) => getPollers().watch(d, onStatus));
  return () => {
    if (timer) clearTimeout(timer);
    offs.forEach((off) => off());
  };
}

/** Watches every director; calls `listener` with the whole fleet after any change. */
export function watchFleet(listener: (fleet: FleetStatus) => void): () => void {
  return watchFleetChanges(() => listener(fleetStatus()));
}

/**
 * The fleet page's view (fleet-summary.ts): every director without `changed`, otherwise
 * only those directors, in their clusters (whose rulesDiffer is computed from all of them).
 */
export function fleetSummary(changed?: ReadonlySet<string>): FleetSummary {
  const pollers = getPollers();
  const clusters: FleetSummary["clusters"] = [];
  for (const cluster of getConfig().clusters) {
    if (changed && !cluster.directors.some((d) => changed.has(d.id))) continue;
    const statuses = cluster.directors.map((d) => pollers.poller(d).current());
    clusters.push({
      id: cluster.id,
      name: cluster.name,
      rulesDiffer: rulesDiffer(statuses),
      directors: statuses.filter((s) => !changed || changed.has(s.directorId)).map(fleetDirector),
    });
  }
  return { at: Date.now(), full: !changed, clusters };
}
