"use client";
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatClock, type TimeZoneChoice } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { alignSeries, chartColors, type ChartLine, type ChartMark } from "./series";

/**
 * A time-series chart (uPlot): a time axis in the console's zone, one line per series,
 * values under the cursor in the legend, and vertical marks (a weight change). The data
 * comes from the history, so it is the same after a reload or a restart.
 */
export function TimeChart({
  label,
  lines,
  marks = [],
  format,
  height = 160,
  width = 520,
}: {
  label: string;
  lines: readonly ChartLine[];
  marks?: readonly ChartMark[];
  /** Axis and legend values ("12/s", "3.1 MB/s"). */
  format: (v: number) => string;
  height?: number;
  width?: number;
}) {
  const zone = useTimeZone();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = alignSeries(lines);
  const shape = `${lines.map((l) => l.label).join("|")}|${zone}|${width}|${height}`;
  // Read by uPlot's callbacks at draw time, so a new mark or formatter needs no rebuild.
  const marksRef = useRef(marks);
  const formatRef = useRef(format);

  // One uPlot per set of lines (their labels) and size; new points go through setData.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const colors = chartColors(el);
    const u = new uPlot(
      {
        width,
        height,
        tzDate: tzDateOf(zone),
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          { stroke: colors.axis, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid } },
          {
            stroke: colors.axis,
            grid: { stroke: colors.grid },
            ticks: { stroke: colors.grid },
            size: 60,
            values: (_u, splits) => splits.map((v) => formatRef.current(v)),
          },
        ],
        series: [
          { label: "time", value: (_u, v) => (v === null ? "—" : formatClock(v * 1000, zone)) },
          ...lines.map((l, i) => ({
            label: l.label,
            stroke: colors.line(i),
            width: 1.5,
            spanGaps: true,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? "—" : formatRef.current(v)),
          })),
        ],
        hooks: {
          draw: [
            (u: uPlot) => {
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = colors.mark;
              ctx.fillStyle = colors.mark;
              ctx.setLineDash([4, 3]);
              ctx.font = `${10 * devicePixelRatio}px sans-serif`;
              for (const m of marksRef.current) {
                const x = u.valToPos(m.at / 1000, "x", true);
                if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
                ctx.fillText(m.label, x + 4, u.bbox.top + 12 * devicePixelRatio);
              }
              ctx.restore();
            },
          ],
        },
      },
      data,
      el,
    );
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt only when `shape` changes
  }, [shape]);

  useEffect(() => {
    marksRef.current = marks;
    formatRef.current = format;
    plot.current?.setData(data);
  });

  const first = data[0][0];
  return (
    <figure
      className="flex flex-col gap-1"
      aria-label={label}
      data-chart={label}
      data-points={data[0].length}
      data-first-at={first === undefined ? "" : String(first * 1000)}
      data-marks={marks.map((m) => m.at).join(",")}
    >
      <figcaption className="text-xs font-medium text-muted-foreground">{label}</figcaption>
      <div ref={box} role="img" aria-label={label} className="max-w-full overflow-hidden" />
    </figure>
  );
}

function tzDateOf(zone: TimeZoneChoice): ((ts: number) => Date) | undefined {
  return zone === "utc" ? (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") : undefined;
}
