/**
 * The reads previews plan on, shared: every viewer may preview, and each preview needs a
 * full read of every director of the cluster. Concurrent previews of one director share one
 * read (single flight), and a read younger than `maxAgeMs` (the poll interval) answers the
 * next preview too, so viewers clicking around cost the director at most about one read per
 * poll interval, never one per click, and leave its channels to operators.
 *
 * A preview's read may be that old: the commit reads again, fresh, and checks the version
 * the preview showed (a CONFLICT when the director moved on). What a console apply changes
 * must not be previewed from the read before it: `forget` drops a cluster's reads, and a
 * read that was running when they were forgotten is handed to its waiters but not kept.
 *
 * Pure scheduling (the reader and the clock are injected): unit-tested with fake timers.
 */
export interface SharedReadsOptions<T> {
  read: (director: SharedReadTarget) => Promise<T>;
  /** A read finished less than this long ago is reused. */
  maxAgeMs: () => number;
  now?: () => number;
}

export interface SharedReadTarget {
  id: string;
  clusterId: string;
}

interface Entry<T> {
  director: SharedReadTarget;
  inFlight: Promise<T> | null;
  last: { value: T; at: number } | null;
  /** Bumped by forget(): a read started before it is not kept. */
  generation: number;
}

export class SharedReads<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Reads started, for tests and the bench. */
  started = 0;

  constructor(private readonly options: SharedReadsOptions<T>) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get(director: SharedReadTarget): Promise<T> {
    let entry = this.entries.get(director.id);
    if (!entry || entry.director !== director) {
      // A reloaded config brings new director objects (maybe another address): start over.
      entry = { director, inFlight: null, last: null, generation: 0 };
      this.entries.set(director.id, entry);
    }
    if (entry.inFlight) return entry.inFlight;
    if (entry.last && this.now() - entry.last.at < this.options.maxAgeMs())
      return Promise.resolve(entry.last.value);
    return this.start(entry);
  }

  private start(entry: Entry<T>): Promise<T> {
    const generation = entry.generation;
    this.started++;
    const promise = this.options.read(entry.director).then(
      (value) => {
        if (entry.generation === generation) {
          entry.inFlight = null;
          entry.last = { value, at: this.now() };
        }
        return value;
      },
      (e: unknown) => {
        // A failure is not kept: the next preview tries again (the pool's backoff paces it).
        if (entry.generation === generation) entry.inFlight = null;
        throw e;
      },
    );
    entry.inFlight = promise;
    return promise;
  }

  /** The cluster's rules changed (or may have) through the console: read afresh next time. */
  forget(clusterId: string): void {
    for (const entry of this.entries.values()) {
      if (entry.director.clusterId !== clusterId) continue;
      entry.generation++;
      entry.inFlight = null;
      entry.last = null;
    }
  }
}
