/**
 * What the console does with every poll besides pushing it to browsers: the poll metrics,
 * the history (SQLite), and a log line when a director's state turns (unreachable, back, a
 * different error, its rules changed: by the console or from outside, which the audit log
 * tells apart).
 */
import { getDb } from "@/server/db";
import { getHistoryStore } from "@/server/live/history";
import type { DirectorSnapshot } from "@/server/live/types";
import { directorLog, getLog, type Logger } from "@/server/log";
import type { ConsoleErrorCode } from "@/server/errors";

/** One poll, as the metrics record it. */
export interface PollRecord {
  directorId: string;
  clusterId: string;
  /** ms since epoch */
  at: number;
  durationMs: number;
  error: ConsoleErrorCode | null;
  /** How late the poll started against the interval (PollEvent.lateMs). */
  lateMs: number | null;
}

/** Where poll metrics go: set by the metrics layer at start (instrumentation.ts), so this
 * layer never imports it. */
export interface PollMetricsSink {
  recordPoll(event: PollRecord): void;
}

// On globalThis, not in a module variable: Next bundles instrumentation.ts apart from the
// route handlers that run the pollers, so each holds its own copy of this module, and a sink
// set in one copy was never seen by the other (the poll metrics stayed empty).
const globalForSink = globalThis as typeof globalThis & { __lvsConsolePollSink?: PollMetricsSink };

export function setPollMetricsSink(sink: PollMetricsSink): void {
  globalForSink.__lvsConsolePollSink = sink;
}

function pollMetrics(): PollMetricsSink {
  return globalForSink.__lvsConsolePollSink ?? { recordPoll: () => undefined };
}

export interface PollObservation extends PollRecord {
  version: string | null;
  /** A failed poll's message. */
  message: string | null;
}

interface LastPoll {
  error: string | null;
  version: string | null;
}

export interface PollObserverDeps {
  metrics: () => PollMetricsSink;
  log: (director: { id: string; clusterId: string }) => Logger;
}

/** An observer with its own memory of each director's last poll. */
export function createPollObserver(deps: PollObserverDeps): (event: PollObservation) => void {
  const states = new Map<string, LastPoll>();
  return (event) => {
    deps.metrics().recordPoll(event);
    const before = states.get(event.directorId);
    const log = deps.log({ id: event.directorId, clusterId: event.clusterId });
    if (event.error !== null) {
      if (before?.error !== event.error)
        log.warn(
          { event: "director.unreachable", code: event.error, error: event.message },
          "poll failed",
        );
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
  };
}

const globalForPolls = globalThis as typeof globalThis & {
  __lvsConsolePollObserver?: (event: PollObservation) => void;
};

/** The process's observer, wired to its metrics and logger (cached across dev reloads). */
export function observePoll(event: PollObservation): void {
  globalForPolls.__lvsConsolePollObserver ??= createPollObserver({
    metrics: pollMetrics,
    log: directorLog,
  });
  globalForPolls.__lvsConsolePollObserver(event);
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
