"use client";
import { useQuery } from "@tanstack/react-query";
import type { DirectorSnapshot } from "@/server/live/types";
import { totalsOf } from "@/components/live/history";
import { useTRPC } from "@/components/trpc";
import type { ChartPoint } from "./series";

/** Minutes of history behind the fleet's sparklines. */
export const TREND_MINUTES = 10;

/**
 * A director's connection and byte rate over the last minutes, from the console's history
 * (so a reload starts full), with the newest pushed snapshot added until the next refetch.
 */
export function useDirectorTrend(
  directorId: string,
  snapshot: DirectorSnapshot | null,
): { cps: ChartPoint[]; bps: ChartPoint[] } {
  const trpc = useTRPC();
  const history = useQuery(
    trpc.history.series.queryOptions(
      { directorId, minutes: TREND_MINUTES },
      { refetchInterval: 10_000 },
    ),
  );
  const points = history.data?.points ?? [];
  const cps = points.map((p) => ({ at: p.at, value: p.cps }));
  const bps = points.map((p) => ({ at: p.at, value: p.inBps + p.outBps }));
  const last = points[points.length - 1]?.at ?? 0;
  if (snapshot && snapshot.takenAt > last && snapshot.services.some((s) => s.rates)) {
    const t = totalsOf(snapshot);
    cps.push({ at: snapshot.takenAt, value: t.cps });
    bps.push({ at: snapshot.takenAt, value: t.bps });
  }
  return { cps, bps };
}
