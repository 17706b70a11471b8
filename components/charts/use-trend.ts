"use client";
import { useQuery } from "@tanstack/react-query";
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
 */
export function useDirectorTrend(
  directorId: string,
  latest: TrendPoint | null,
): { cps: ChartPoint[]; bps: ChartPoint[] } {
  const trpc = useTRPC();
  const history = useQuery(
    trpc.history.series.queryOptions(
      { directorId, minutes: TREND_MINUTES },
      { refetchInterval: REFETCH_MS, staleTime: REFETCH_MS },
    ),
  );
  const points = history.data?.points ?? [];
  const cps = points.map((p) => ({ at: p.at, value: p.cps }));
  const bps = points.map((p) => ({ at: p.at, value: p.inBps + p.outBps }));
  const last = points[points.length - 1]?.at ?? 0;
  if (latest && latest.takenAt > last) {
    cps.push({ at: latest.takenAt, value: latest.cps });
    bps.push({ at: latest.takenAt, value: latest.bps });
  }
  return { cps, bps };
}
