"use client";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useTRPC } from "@/components/trpc";
import type { ChartPoint } from "./series";

/** Minutes of history behind the fleet's sparklines. */
export const TREND_MINUTES = 10;
/** The history is re-read this often; the pushes fill in the newest point in between. */
const REFETCH_MS = 30_000;
/** The sparklines' width in px (the fleet's rows): TREND_MINUTES across it. */
export const TREND_WIDTH_PX = 80;
/**
 * The time one pixel of the line covers (7.5 s). A newer poll moves the line by less than
 * that, so the newest point is replaced only once per pixel: a fleet push every 500 ms
 * otherwise redrew every changed row's two canvases for a change nobody can see. The
 * numbers beside the lines come from every push.
 */
const TREND_STEP_MS = (TREND_MINUTES * 60_000) / TREND_WIDTH_PX;

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
  const shown = useStepped(latest, TREND_STEP_MS);
  return useMemo(() => {
    if (!shown || shown.takenAt <= from.last) return from;
    return {
      cps: [...from.cps, { at: shown.takenAt, value: shown.cps }],
      bps: [...from.bps, { at: shown.takenAt, value: shown.bps }],
    };
  }, [from, shown]);
}

/** `latest`, replaced only once it is `stepMs` newer than the one kept (or gone). */
function useStepped(latest: TrendPoint | null, stepMs: number): TrendPoint | null {
  const [kept, setKept] = useState(latest);
  // Derived state, stored during render (react.dev "storing information from previous renders").
  const next = !latest || !kept || latest.takenAt - kept.takenAt >= stepMs ? latest : kept;
  if (next !== kept) setKept(next);
  return next;
}
