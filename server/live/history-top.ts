/**
 * The director's history charts draw at most ten lines each (components/charts/series.ts
 * topLines); a director with 200 services sent all 200 series every five seconds, a 15-minute
 * window of them being 90,000 points the tab parsed and held. The server keeps the series
 * that can make a chart's top lines and sums the rest into one. Pure.
 */
import type { HistoryPoint } from "./history";

/** What each chart ranks its lines by (director-history.tsx CHARTS). */
const RANKED_BY: ReadonlyArray<(p: HistoryPoint) => number> = [
  (p) => p.cps,
  (p) => p.inBps + p.outBps,
  (p) => p.active,
];

export interface NamedSeries {
  service: string;
  realserver: string;
  points: HistoryPoint[];
}

/** `others` > 0: the sum of that many series (service and realserver empty). */
export type FoldedSeries = NamedSeries & { others: number };

function sumPoints(series: readonly NamedSeries[]): HistoryPoint[] {
  const at = new Map<number, HistoryPoint>();
  for (const s of series) {
    for (const p of s.points) {
      const t = at.get(p.at);
      if (!t) at.set(p.at, { ...p });
      else {
        t.cps += p.cps;
        t.inBps += p.inBps;
        t.outBps += p.outBps;
        t.active += p.active;
        t.inactive += p.inactive;
        t.persistent += p.persistent;
      }
    }
  }
  return [...at.values()].sort((a, b) => a.at - b.at);
}

/**
 * The series among the top `keep` of any chart's measure, in their order, then one series
 * summing every other (when there are any).
 */
export function foldSeries(parts: readonly NamedSeries[], keep: number): FoldedSeries[] {
  if (parts.length <= keep) return parts.map((s) => ({ ...s, others: 0 }));
  const kept = new Set<NamedSeries>();
  for (const measure of RANKED_BY) {
    const total = new Map(parts.map((s) => [s, s.points.reduce((a, p) => a + measure(p), 0)]));
    const ranked = [...parts].sort((a, b) => (total.get(b) ?? 0) - (total.get(a) ?? 0));
    for (const s of ranked.slice(0, keep - 1)) kept.add(s);
  }
  const rest = parts.filter((s) => !kept.has(s));
  const out: FoldedSeries[] = parts.filter((s) => kept.has(s)).map((s) => ({ ...s, others: 0 }));
  if (rest.length > 0) {
    out.push({ service: "", realserver: "", points: sumPoints(rest), others: rest.length });
  }
  return out;
}
