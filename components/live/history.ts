"use client";
import { useCallback, useRef, useState } from "react";

export const HISTORY_POINTS = 60;

import { totalsOf } from "@/server/ipvs/totals";

export { totalsOf };
export type { DirectorTotals } from "@/server/ipvs/totals";

export interface Series {
  cps: number[];
  bps: number[];
}

/** One point of a director's rate history: the poll it came from and its rates. */
export interface RatePoint {
  directorId: string;
  takenAt: number;
  cps: number;
  bps: number;
}

/**
 * Rate history per director, kept in the browser from the pushes (the server keeps none).
 * One point per new poll: a repeated push of the same poll adds nothing. A push's points
 * are added in one state update, and an unchanged director keeps its series object.
 */
export function useRateHistory(): [Record<string, Series>, (points: RatePoint[]) => void] {
  const lastTaken = useRef(new Map<string, number>());
  const [series, setSeries] = useState<Record<string, Series>>({});
  const add = useCallback((points: RatePoint[]) => {
    const fresh = points.filter((p) => lastTaken.current.get(p.directorId) !== p.takenAt);
    if (fresh.length === 0) return;
    for (const p of fresh) lastTaken.current.set(p.directorId, p.takenAt);
    setSeries((prev) => {
      const next = { ...prev };
      for (const p of fresh) {
        const old = next[p.directorId] ?? { cps: [], bps: [] };
        next[p.directorId] = {
          cps: [...old.cps, p.cps].slice(-HISTORY_POINTS),
          bps: [...old.bps, p.bps].slice(-HISTORY_POINTS),
        };
      }
      return next;
    });
  }, []);
  return [series, add];
}
