"use client";
import { formatCount } from "@/components/format";
import type { DrainProgress, RouterOutputs } from "@/components/trpc";
import type { ChartMark } from "@/components/charts/series";
import { TimeChart } from "@/components/charts/time-chart";

/** A point of the drained realserver's curve, as history.drain gives them. */
export type DrainPoint = RouterOutputs["history"]["drain"]["points"][number];

const LINES = [
  { key: "active", label: "ActiveConn" },
  { key: "inactive", label: "InActConn" },
  { key: "persistent", label: "PersistConn" },
] as const;

/**
 * ActiveConn, InActConn and PersistConn of the drained realserver since the drain began
 * (the console's history, then the live pushes), with the weight changes marked.
 */
export function DrainChart({
  points,
  marks,
}: {
  points: readonly DrainPoint[];
  marks: readonly ChartMark[];
}) {
  return (
    <TimeChart
      label="Connections to the drained realserver over time"
      width={520}
      height={170}
      format={(v) => formatCount(v)}
      marks={marks}
      lines={LINES.map((l) => ({
        label: l.label,
        points: points.map((p) => ({ at: p.at, value: p[l.key] })),
      }))}
    />
  );
}

/** The history's curve, then the pushed points newer than its last one. */
export function drainPoints(
  history: readonly DrainPoint[],
  live: ReadonlyArray<Pick<DrainProgress, "at" | "totals">>,
): DrainPoint[] {
  const last = history[history.length - 1]?.at ?? 0;
  return [...history, ...live.filter((p) => p.at > last).map((p) => ({ at: p.at, ...p.totals }))];
}
