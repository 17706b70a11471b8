/**
 * Failed-login counting in memory: per user name (slows guessing one account from many
 * addresses) and per client address (slows one client trying many names). A restart forgets
 * the counts, which is acceptable for a console with a handful of operators.
 */

export interface RateLimitOptions {
  maxFailures: number;
  windowMs: number;
}

export const LOGIN_LIMIT: RateLimitOptions = { maxFailures: 5, windowMs: 15 * 60_000 };

export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(readonly options: RateLimitOptions = LOGIN_LIMIT) {}

  #recent(key: string, now: number): number[] {
    const since = now - this.options.windowMs;
    const times = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  /** Milliseconds until `key` may try again, or 0 when it may try now. */
  retryAfterMs(key: string, now = Date.now()): number {
    const times = this.#recent(key, now);
    if (times.length < this.options.maxFailures) return 0;
    const oldest = times[times.length - this.options.maxFailures] ?? now;
    return Math.max(1, oldest + this.options.windowMs - now);
  }

  /** Failures of `key` within the window. */
  count(key: string, now = Date.now()): number {
    return this.#recent(key, now).length;
  }

  fail(key: string, now = Date.now()): void {
    const times = this.#recent(key, now);
    times.push(now);
    this.#failures.set(key, times);
    // Bound the memory an attacker can make us hold with random names: forget the oldest keys.
    if (this.#failures.size > 10_000) {
      for (const k of [...this.#failures.keys()].slice(0, 5_000)) this.#failures.delete(k);
    }
  }

  /** Takes back one failure recorded at `at` (a reserved attempt that turned out not to fail). */
  unfail(key: string, at: number): void {
    const times = this.#failures.get(key);
    const i = times?.lastIndexOf(at) ?? -1;
    if (!times || i < 0) return;
    times.splice(i, 1);
    if (times.length === 0) this.#failures.delete(key);
  }

  reset(key: string): void {
    this.#failures.delete(key);
  }
}
