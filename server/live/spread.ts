/**
 * Spreading the fleet's work over time. Pollers start together (the fleet page subscribes
 * to every director at once) and a start-to-start interval keeps whatever phase they
 * started with; so do the full reads every Nth poll. At 500 directors that came as bursts
 * (bench:fleet): every full read and owner read of the fleet in the same two seconds every
 * 30 s, the polls that fell there taking 1-2.5 s instead of 45 ms. Each director instead
 * keeps a slot of its own, from a hash of its id, as Prometheus spreads its scrapes: steady,
 * the same after a restart, and no coordination between pollers.
 *
 * Pure.
 */

/** A slot in [0, slots) for `id`: FNV-1a (32 bit) of its UTF-16 code units. */
export function slotOf(id: string, slots: number): number {
  if (!(slots >= 1)) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % Math.floor(slots);
}

/**
 * The time nearest to `t` (within half an interval either way) that is `phaseMs` after a
 * multiple of `intervalMs` since the epoch: a poll due at `t` moves to its director's slot.
 * A poll that started late is followed on its slot again, not an interval after its start.
 */
export function onPhase(t: number, intervalMs: number, phaseMs: number): number {
  if (!(intervalMs > 0)) return t;
  let d = (((phaseMs - t) % intervalMs) + intervalMs) % intervalMs;
  if (d > intervalMs / 2) d -= intervalMs;
  return t + d;
}
