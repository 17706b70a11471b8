/**
 * One poller per watched director, shared by every subscriber: 50 browser tabs on the same
 * director cost the same SSH work as one. A poller starts with its first subscriber and
 * stops when the last one leaves. A failed poll marks the director unreachable (keeping the
 * last good snapshot, so the UI can say "stale since") and is retried after 2 s, 4 s, ...
 * 30 s; the first good poll after that makes it live again. A stopped poller's snapshot is
 * "stale": a restart after idling shows it with its age, never as live, until a fresh poll.
 *
 * The scheduling is pure (the snapshot reader is injected), so it is unit-tested with a
 * fake reader and fake timers.
 */
import type { DirectorConfig } from "@/server/config";
import { ConsoleError, toErrorJson, type ConsoleErrorCode } from "@/server/errors";
import { backoffDelay, type BackoffPolicy } from "@/server/ssh/backoff";
import { onPhase } from "./spread";
import type { DirectorSnapshot, DirectorStatus } from "./types";

export type SnapshotReader = (
  director: DirectorConfig,
  options: { signal: AbortSignal; previous: DirectorSnapshot | null },
) => Promise<DirectorSnapshot>;

export interface PollerOptions {
  intervalMs: number;
  retry: BackoffPolicy;
  read: SnapshotReader;
  /** Called after every good poll (e.g. to remember the rules behind a version). */
  onSnapshot?: (snapshot: DirectorSnapshot) => void;
  /** Called after every completed poll, good or failed (metrics). */
  onPoll?: (event: PollEvent) => void;
  /**
   * The director's slot in the interval (spread.ts): polls after the first are due that
   * many ms after a multiple of the interval. Without it, polls run start to start.
   */
  phaseMs?: (directorId: string, intervalMs: number) => number;
}

export interface PollEvent {
  directorId: string;
  clusterId: string;
  /** When the poll finished (ms since epoch). */
  at: number;
  durationMs: number;
  /** The error code of a failed poll, null for a good one. */
  error: ConsoleErrorCode | null;
  /** Its message (what the log says besides the code), null for a good one. */
  message: string | null;
  /** The rules version a good poll read, null for a failed one. */
  version: string | null;
  /**
   * How late the poll started against when it was due (an interval after the last good
   * poll started, moved to the director's slot), in ms; null for a first poll, a retry or
   * a one-off poll.
   */
  lateMs: number | null;
}

export const DEFAULT_RETRY: BackoffPolicy = { baseMs: 2000, maxMs: 30_000 };

export type StatusListener = (status: DirectorStatus) => void;

export class DirectorPoller {
  private listeners = new Set<StatusListener>();
  private status: DirectorStatus;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: AbortController | null = null;
  /** Bumped on every start and stop: a poll that finishes after a stop is ignored. */
  private generation = 0;
  private failures = 0;
  private oneOff: Promise<DirectorStatus> | null = null;
  /** Completed polls (good or failed), for tests and the tracked id. */
  polls = 0;
  /** Completed polls since the last start: 0 means the status predates this run. */
  private pollsSinceStart = 0;

  constructor(
    readonly director: DirectorConfig,
    private readonly options: PollerOptions,
  ) {
    this.status = {
      directorId: director.id,
      clusterId: director.clusterId,
      reachability: "connecting",
      snapshot: null,
      error: null,
      lastSuccessAt: null,
      nextRetryAt: null,
    };
  }

  get running(): boolean {
    return this.listeners.size > 0;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  current(): DirectorStatus {
    return this.status;
  }

  /** Subscribes; the first subscriber starts the polling. Returns the unsubscribe function. */
  subscribe(listener: StatusListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The status after one poll: the running poller's next result, or a poll of its own. */
  async pollOnce(): Promise<DirectorStatus> {
    if (this.running) {
      if (this.pollsSinceStart > 0) return this.status;
      return new Promise((resolve) => {
        const off = this.subscribe((status) => {
          off();
          resolve(status);
        });
      });
    }
    this.oneOff ??= this.poll(new AbortController(), this.generation).finally(() => {
      this.oneOff = null;
      // The caller got the fresh status; kept, it ages while nobody polls.
      if (!this.running) this.markStale();
    });
    return this.oneOff;
  }

  /**
   * "live" holds only while this poller runs: a status kept from before (the last run, a
   * one-off poll) is shown with its age until a fresh poll lands, never replayed as live.
   */
  private markStale(): void {
    if (this.status.reachability === "live")
      this.status = { ...this.status, reachability: "stale" };
  }

  private start(): void {
    this.generation++;
    this.failures = 0;
    this.pollsSinceStart = 0;
    this.markStale();
    this.schedule(0);
  }

  private stop(): void {
    this.generation++;
    this.markStale();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort(
      new ConsoleError("TIMEOUT", "nobody watches this director any more", { cancelled: true }),
    );
    this.inFlight = null;
  }

  /** `dueAt`: when the interval wanted this poll to start (null: no cadence to keep). */
  private schedule(delayMs: number, dueAt: number | null = null): void {
    const generation = this.generation;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (generation !== this.generation) return;
      const controller = new AbortController();
      this.inFlight = controller;
      const startedAt = Date.now();
      const lateMs = dueAt === null ? null : Math.max(0, startedAt - dueAt);
      void this.poll(controller, generation, lateMs).then((status) => {
        if (generation !== this.generation) return;
        this.inFlight = null;
        if (status.reachability === "live") {
          // Intervals run start to start, on the director's slot; a poll slower than the
          // interval is followed at once.
          const { intervalMs, phaseMs } = this.options;
          const next = startedAt + intervalMs;
          const due = phaseMs
            ? onPhase(next, intervalMs, phaseMs(this.director.id, intervalMs))
            : next;
          this.schedule(Math.max(0, due - Date.now()), due);
        } else {
          this.schedule(Math.max(0, (status.nextRetryAt ?? Date.now()) - Date.now()));
        }
      });
    }, delayMs);
    // Never keep the process alive just to poll.
    if (typeof this.timer === "object" && "unref" in this.timer) this.timer.unref();
  }

  /** One poll; updates the status and tells the subscribers, unless a stop came first. */
  private async poll(
    controller: AbortController,
    generation: number,
    lateMs: number | null = null,
  ): Promise<DirectorStatus> {
    const startedAt = Date.now();
    let next: DirectorStatus;
    try {
      const snapshot = await this.options.read(this.director, {
        signal: controller.signal,
        previous: this.status.snapshot,
      });
      this.failures = 0;
      next = {
        ...this.status,
        reachability: "live",
        snapshot,
        error: null,
        lastSuccessAt: snapshot.takenAt,
        nextRetryAt: null,
      };
      this.options.onSnapshot?.(snapshot);
    } catch (e) {
      if (generation !== this.generation) return this.status;
      this.failures++;
      const retryIn = backoffDelay(this.failures, this.options.retry);
      next = {
        ...this.status,
        reachability: "unreachable",
        error: toErrorJson(e),
        nextRetryAt: Date.now() + retryIn,
      };
    }
    if (generation !== this.generation) return next;
    const at = Date.now();
    this.options.onPoll?.({
      directorId: this.director.id,
      clusterId: this.director.clusterId,
      at,
      durationMs: at - startedAt,
      error: next.error?.code ?? null,
      message: next.error?.message ?? null,
      version: next.error ? null : (next.snapshot?.version ?? null),
      lateMs,
    });
    this.polls++;
    this.pollsSinceStart++;
    this.status = next;
    for (const listener of [...this.listeners]) listener(next);
    return next;
  }
}

/** The pollers of one process, one per director id. */
export class PollerRegistry {
  private pollers = new Map<string, DirectorPoller>();

  constructor(private readonly options: () => PollerOptions) {}

  poller(director: DirectorConfig): DirectorPoller {
    let poller = this.pollers.get(director.id);
    if (!poller || poller.director !== director) {
      // A reloaded config brings new director objects; keep a running poller until it stops.
      if (poller?.running) return poller;
      poller = new DirectorPoller(director, this.options());
      this.pollers.set(director.id, poller);
    }
    return poller;
  }

  /** The poller of a director, if one exists (running or not). */
  find(directorId: string): DirectorPoller | undefined {
    return this.pollers.get(directorId);
  }

  /** Subscribes to a director's statuses; returns the unsubscribe function. */
  watch(director: DirectorConfig, listener: StatusListener): () => void {
    return this.poller(director).subscribe(listener);
  }

  /**
   * watch, but a poller that already polled tells `listener` its current status at once:
   * a late watcher does not wait up to an interval for its first value.
   */
  follow(director: DirectorConfig, listener: StatusListener): () => void {
    const poller = this.poller(director);
    const off = poller.subscribe(listener);
    if (poller.polls > 0) listener(poller.current());
    return off;
  }
}
