"use client";
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTRPC } from "@/components/trpc";
import type { ChartPoint } from "./series";

/** Minutes of history behind the fleet's sparklines. */
export const TREND_MINUTES = 10;
/** The history is re-read this often; the pushes fill in the newest point in between. */
const REFETCH_MS = 30_000;

/** The newest poll's totals, as the fleet summary pushes them. */
export interface TrendPoint {
  takenAt: number;
  cps: number;
  bps: number;
}

/**
 * A director's connection and byte rate over the last minutes, from the console's history
 * (so a reload starts full), with the newest pushed poll added until the next refetch.
 * `enabled` false (a row out of view) reads no history and keeps what it had.
 */
export function useDirectorTrend(
  directorId: string,
  latest: TrendPoint | null,
  enabled = true,
): { cps: ChartPoint[]; bps: ChartPoint[] } {
  const trpc = useTRPC();
  const history = useQuery(
    trpc.history.series.queryOptions(
      { directorId, minutes: TREND_MINUTES },
      { refetchInterval: REFETCH_MS, staleTime: REFETCH_MS, enabled },
    ),
  );
  const points = history.data?.points;
  // Mapped again only when the history or the newest poll changes, not on every render.
  const from = useMemo(
    () => ({
      cps: (points ?? []).map((p) => ({ at: p.at, value: p.cps })),
      bps: (points ?? []).map((p) => ({ at: p.at, value: p.inBps + p.outBps })),
      last: points?.[points.length - 1]?.at ?? 0,
    }),
    [points],
  );
  const takenAt = latest?.takenAt;
  const cpsNow = latest?.cps;
  const bpsNow = latest?.bps;
  return useMemo(() => {
    if (takenAt === undefined || takenAt <= from.last) return from;
    return {
      cps: [...from.cps, { at: takenAt, value: cpsNow ?? 0 }],
      bps: [...from.bps, { at: takenAt, value: bpsNow ?? 0 }],
    };
  }, [from, takenAt, cpsNow, bpsNow]);
}
