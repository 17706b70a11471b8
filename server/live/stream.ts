/**
 * Turns a listener-style source into an async iterable for tRPC subscriptions.
 *
 * It subscribes at construction, so a caller can subscribe first and read the current
 * value second without missing an update in between. Only the newest unread value is kept:
 * a slow browser gets the latest status, not a growing backlog of stale ones.
 */
export class LatestValues<T> implements AsyncIterable<T> {
  private pending: { value: T } | null = null;
  private wake: (() => void) | null = null;
  private readonly unsubscribe: () => void;
  private done = false;

  /**
   * `merge`: how a value joins one still unread (default: replaces it), for values that
   * are changes, not states (the fleet summary's changed director ids).
   */
  constructor(
    subscribe: (push: (value: T) => void) => () => void,
    private readonly signal: AbortSignal,
    merge?: (unread: T, next: T) => T,
  ) {
    this.unsubscribe = subscribe((value) => {
      this.pending =
        this.pending && merge ? { value: merge(this.pending.value, value) } : { value };
      this.wake?.();
    });
    const stop = () => {
      this.done = true;
      this.unsubscribe();
      this.wake?.();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      while (!this.done) {
        if (!this.pending) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = null;
          continue;
        }
        const { value } = this.pending;
        this.pending = null;
        yield value;
      }
    } finally {
      this.done = true;
      this.unsubscribe();
    }
  }

  /** Drops a value that arrived before the caller read the current state (it is in there). */
  discardPending(): void {
    this.pending = null;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }
}
