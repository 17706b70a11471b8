/**
 * What the console does with every poll besides pushing it to browsers: the poll metrics,
 * the history (SQLite), and a log line when a director's state turns (unreachable, back, a different error, its
 * rules changed: by the console or from outside, which the audit log tells apart).
 */
import { getDb } from "@/server/db";
import { getHistoryStore } from "@/server/db/history";
import type { DirectorSnapshot } from "@/server/live/types";
import { directorLog, getLog } from "@/server/log";
import { getConsoleMetrics, type PollRecord } from "./registry";

export interface PollObservation extends PollRecord {
  version: string | null;
}

interface LastPoll {
  error: string | null;
  version: string | null;
}

const globalForPolls = globalThis as typeof globalThis & {
  __lvsConsolePollState?: Map<string, LastPoll>;
};

export function observePoll(event: PollObservation): void {
  getConsoleMetrics().recordPoll(event);
  const states = (globalForPolls.__lvsConsolePollState ??= new Map<string, LastPoll>());
  const before = states.get(event.directorId);
  const log = directorLog({ id: event.directorId, clusterId: event.clusterId });
  if (event.error !== null) {
    if (before?.error !== event.error)
      log.warn({ event: "director.unreachable", code: event.error }, "poll failed");
    states.set(event.directorId, { error: event.error, version: before?.version ?? null });
    return;
  }
  if (before?.error) log.info({ event: "director.reachable" }, "poll succeeded again");
  if (before?.version && event.version !== before.version)
    log.info(
      { event: "director.rules_changed", from: before.version, to: event.version },
      "the director's rules changed",
    );
  states.set(event.directorId, { error: null, version: event.version });
}

/** Keeps the snapshot's rates and connection counts (server/db/history.ts); never fails a poll. */
export function recordHistory(snapshot: DirectorSnapshot): void {
  try {
    getHistoryStore(getDb()).record(snapshot);
  } catch (e) {
    getLog().warn(
      { event: "history.write_failed", director: snapshot.directorId, err: e },
      "could not keep the poll's history",
    );
  }
}
