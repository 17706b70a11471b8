"use client";
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import { cn } from "@/components/cn";
import { alignSeries, chartColors, type ChartPoint } from "./series";

/**
 * A small trend line (uPlot, no axes, no legend): the number beside it tells the value.
 * Fed from the history, so it is full right after a reload.
 */
export function Sparkline({
  points,
  width = 80,
  height = 20,
  label,
  color = 0,
  className,
}: {
  points: readonly ChartPoint[];
  width?: number;
  height?: number;
  label: string;
  /** Index into the chart palette. */
  color?: number;
  className?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Aligned and drawn again only when the points change: a row re-rendered for another
  // reason does not redraw its canvas.
  const data = useMemo(() => alignSeries([{ label, points }]), [label, points]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const colors = chartColors(el);
    const u = new uPlot(
      {
        width,
        height,
        padding: [2, 0, 1, 0],
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1e-9, max)] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: colors.line(color), width: 1.25, points: { show: false } }],
      },
      data,
      el,
    );
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt only on a new size or colour
  }, [width, height, color]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <div
      ref={box}
      role="img"
      aria-label={label}
      data-points={points.length}
      style={{ width, height }}
      className={cn("shrink-0 border-b border-border", className)}
    />
  );
}
