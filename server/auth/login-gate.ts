/**
 * What a sign-in must get past before its (slow, memory-hungry) password check, in memory:
 *
 * - every attempt is counted as a failure BEFORE the check (reserve, then verify), and taken
 *   back only when the password was right, so parallel guesses cannot all slip under a limit
 *   read before and written after the check;
 * - one check at a time per user name, any further attempt for it meanwhile is refused;
 * - a user name is locked after `maxFailuresPerName` failures in `windowMs`, from anywhere;
 * - a client address is never locked (behind a reverse proxy it is everyone's): its failures
 *   beyond a few delay its next attempts, doubling up to a cap;
 * - a few checks at once in the whole process, a few more waiting, the rest refused.
 *
 * A restart forgets it all, which is acceptable for a console with a handful of operators.
 */
import { FailureLimiter } from "./rate-limit";

export interface LoginGateOptions {
  maxFailuresPerName: number;
  windowMs: number;
  /** Failures from one address that cost no delay; each further one doubles it. */
  freeFailuresPerAddress: number;
  addressDelayBaseMs: number;
  addressDelayMaxMs: number;
  /** scrypt at N=2^17 takes 128 MiB and a core for a few hundred ms per check. */
  maxConcurrentChecks: number;
  maxWaitingChecks: number;
}

export const LOGIN_GATE: LoginGateOptions = {
  maxFailuresPerName: 5,
  windowMs: 15 * 60_000,
  freeFailuresPerAddress: 3,
  addressDelayBaseMs: 500,
  addressDelayMaxMs: 8_000,
  maxConcurrentChecks: 2,
  maxWaitingChecks: 16,
};

export type GateRefusalReason = "name-locked" | "name-busy" | "busy";

export interface GateRefusal {
  refused: GateRefusalReason;
  retryAfterMs: number;
}

export type AttemptOutcome = "failed" | "succeeded" | "not-checked";

export interface Reservation {
  /** How long to wait before checking (this address failed recently). */
  delayMs: number;
  /** Ends the attempt; call exactly once, whatever happened. */
  end(outcome: AttemptOutcome): void;
}

export class LoginGate {
  readonly #byName: FailureLimiter;
  readonly #byAddress: FailureLimiter;
  readonly #checking = new Set<string>();
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly options: LoginGateOptions = LOGIN_GATE) {
    this.#byName = new FailureLimiter({
      maxFailures: options.maxFailuresPerName,
      windowMs: options.windowMs,
    });
    this.#byAddress = new FailureLimiter({
      maxFailures: Number.MAX_SAFE_INTEGER,
      windowMs: options.windowMs,
    });
  }

  /** Counts the attempt as a failure now, or says why it may not be made. Synchronous: atomic. */
  reserve(nameKey: string, addressKey: string, now: number): Reservation | GateRefusal {
    const locked = this.#byName.retryAfterMs(nameKey, now);
    if (locked > 0) return { refused: "name-locked", retryAfterMs: locked };
    if (this.#checking.has(nameKey)) return { refused: "name-busy", retryAfterMs: 1_000 };
    const earlier = this.#byAddress.count(addressKey, now);
    this.#byName.fail(nameKey, now);
    this.#byAddress.fail(addressKey, now);
    this.#checking.add(nameKey);
    let ended = false;
    return {
      delayMs: this.addressDelayMs(earlier),
      end: (outcome) => {
        if (ended) return;
        ended = true;
        this.#checking.delete(nameKey);
        if (outcome === "failed") return;
        if (outcome === "succeeded") this.#byName.reset(nameKey);
        else this.#byName.unfail(nameKey, now);
        this.#byAddress.unfail(addressKey, now);
      },
    };
  }

  addressDelayMs(earlierFailures: number): number {
    const {
      freeFailuresPerAddress: free,
      addressDelayBaseMs: base,
      addressDelayMaxMs: max,
    } = this.options;
    if (earlierFailures < free) return 0;
    return Math.min(max, base * 2 ** Math.min(earlierFailures - free, 30));
  }

  /**
   * A slot for one password check: resolves with its release once one is free, or null at
   * once when too many are already waiting.
   */
  acquireCheck(): Promise<() => void> | null {
    if (this.#active < this.options.maxConcurrentChecks) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.options.maxWaitingChecks) return null;
    return new Promise((resolve) => this.#waiting.push(() => resolve(this.#releaser())));
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter; #active stays the same.
      if (next) next();
      else this.#active--;
    };
  }

  get checksRunning(): number {
    return this.#active;
  }
}

export function isRefusal(r: Reservation | GateRefusal): r is GateRefusal {
  return "refused" in r;
}
