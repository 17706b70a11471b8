/** Exponential backoff: base, 2 x base, 4 x base, ... capped at max. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** The wait before attempt number `failures + 1`, after `failures` failures in a row (>= 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures < 1) return 0;
  // 2 ** 30 already exceeds any sane max: keep the exponent small so the number stays exact.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 30));
}
