/**
 * Open live streams (tRPC subscriptions over SSE) end with the session that opened them. An
 * SSE response is authorized once, when it starts, and may stay open for hours: without this
 * a signed-out or expired browser would keep receiving the fleet's state.
 *
 * - logout ends the session's streams at once (a per-process registry by session id);
 * - a timer fires when the session would expire, and re-arms if requests moved its idle limit;
 * - every push first re-checks the session, which also catches one ended by another process
 *   (`npm run user -- remove`, a changed password) or a clock that jumped.
 *
 * The session store is injected (`endsAt`), so the scheduling is unit-tested without SQLite.
 */
import { ConsoleError } from "@/server/errors";

export interface SessionStreamDeps {
  /** When the session ends if nothing moves it (ms since epoch), or null when it is over. */
  endsAt: (sessionId: string) => number | null;
  now: () => number;
  /** Longest wait between two checks while no push comes (a session ended elsewhere). */
  recheckMs: number;
}

type End = () => void;

const state = globalThis as typeof globalThis & {
  __lvsConsoleSessionStreams?: Map<string, Set<End>>;
};

function registry(): Map<string, Set<End>> {
  state.__lvsConsoleSessionStreams ??= new Map();
  return state.__lvsConsoleSessionStreams;
}

/** Ends every open stream of a session in this process (logout). */
export function endSessionStreams(sessionId: string): void {
  for (const end of [...(registry().get(sessionId) ?? [])]) end();
}

/** How many streams a session has open in this process (tests, diagnostics). */
export function openSessionStreams(sessionId: string): number {
  return registry().get(sessionId)?.size ?? 0;
}

/** The error a stream ends with; the UI sends the user to the sign-in page on it. */
export function sessionEndedError(): ConsoleError {
  return new ConsoleError(
    "UNAUTHORIZED",
    "your session has ended (signed out or expired): sign in again",
    { reason: "session-ended" },
  );
}

/** One open stream of one session: its signal aborts when the caller leaves or the session ends. */
export class SessionStream {
  readonly signal: AbortSignal;
  /** Set when the stream ended because the session did (not because the caller left). */
  ended: ConsoleError | null = null;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly end: End = () => {
    this.ended ??= sessionEndedError();
    this.controller.abort(this.ended);
    this.dispose();
  };
  private readonly callerGone = () => {
    this.controller.abort(this.caller?.reason);
    this.dispose();
  };

  constructor(
    private readonly sessionId: string,
    private readonly caller: AbortSignal | undefined,
    private readonly deps: SessionStreamDeps,
  ) {
    this.signal = this.controller.signal;
    if (caller?.aborted) {
      this.controller.abort(caller.reason);
      return;
    }
    const streams = registry().get(sessionId) ?? new Set<End>();
    streams.add(this.end);
    registry().set(sessionId, streams);
    caller?.addEventListener("abort", this.callerGone, { once: true });
    this.check();
  }

  /** Checks the session now and arms the next check; false once it has ended. */
  check(): boolean {
    if (this.signal.aborted) return this.ended === null;
    const endsAt = this.deps.endsAt(this.sessionId);
    const now = this.deps.now();
    if (endsAt === null || endsAt <= now) {
      this.end();
      return false;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), Math.min(endsAt - now, this.deps.recheckMs));
    // Never keep the process alive just to watch a session.
    if (typeof this.timer === "object" && "unref" in this.timer) this.timer.unref();
    return true;
  }

  /** Stops watching (the stream is over either way); idempotent. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.caller?.removeEventListener("abort", this.callerGone);
    const streams = registry().get(this.sessionId);
    streams?.delete(this.end);
    if (streams?.size === 0) registry().delete(this.sessionId);
  }
}
