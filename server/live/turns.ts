/**
 * One run at a time per key, for reads that must not overlap on a director (owner.ts: two
 * owner reads at once each send keepalived SIGUSR1, and one can wait out all its tries for
 * a dump the other's signal was merged into).
 *
 * - `run` waits for the runs before it. A caller that finds a run queued and not yet
 *   started joins it instead of queueing another: that run starts after the caller asked,
 *   so it sees whatever the caller wrote before asking. At most one run goes and one waits.
 * - `busy` says whether a run goes or waits, for a caller that would rather skip (the
 *   poller, which then keeps its last view) than wait.
 *
 * Pure scheduling: unit-tested with deferred promises.
 */
interface Turn<T> {
  /** Settles when the last run queued for the key has; never rejects. */
  tail: Promise<void>;
  /** The run waiting for its turn, if any. */
  queued: Promise<T> | null;
}

export class Turns<T> {
  private readonly turns = new Map<string, Turn<T>>();

  busy(key: string): boolean {
    return this.turns.has(key);
  }

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const current = this.turns.get(key);
    if (current?.queued) return current.queued;
    const turn: Turn<T> = current ?? { tail: Promise.resolve(), queued: null };
    const mine: Promise<T> = turn.tail.then(() => {
      if (turn.queued === mine) turn.queued = null;
      return fn();
    });
    if (current) turn.queued = mine;
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    turn.tail = tail;
    this.turns.set(key, turn);
    void tail.then(() => {
      if (this.turns.get(key) === turn && turn.tail === tail) this.turns.delete(key);
    });
    return mine;
  }
}
