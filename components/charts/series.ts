import type uPlot from "uplot";

export interface ChartPoint {
  /** ms since the epoch */
  at: number;
  value: number;
}

export interface ChartLine {
  label: string;
  points: readonly ChartPoint[];
  /** How many series the line sums (the server's folded "others"); 1 when absent. */
  count?: number;
}

export interface ChartMark {
  at: number;
  label: string;
}

/**
 * uPlot's column form: one x array (unix seconds, every time any line has a point, sorted)
 * and per line its value at each x, null where it has none (polls of different directors).
 */
export function alignSeries(lines: readonly ChartLine[]): uPlot.AlignedData {
  const times = [...new Set(lines.flatMap((l) => l.points.map((p) => p.at)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = lines.map((l) => {
    const col: Array<number | null> = times.map(() => null);
    for (const p of l.points) col[index.get(p.at) ?? 0] = p.value;
    return col;
  });
  return [times.map((t) => t / 1000), ...columns];
}

/** Beyond the theme's three chart colours, fixed ones readable on both themes. */
const EXTRA = ["#2f9e6e", "#b5489b", "#8a6d1e", "#4aa3b8", "#c24a4a"];

/** The theme's colours as canvas strokes (uPlot draws on a canvas: CSS variables do not reach it). */
export function chartColors(el: Element) {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const palette = [
    v("--chart-1", "#2b5fb8"),
    v("--chart-2", "#c2762a"),
    v("--chart-3", "#6b7a90"),
    ...EXTRA,
  ];
  return {
    axis: v("--muted-foreground", "#5b6576"),
    grid: v("--border", "#d9dde5"),
    mark: v("--danger", "#c24a4a"),
    line: (i: number) => palette[i % palette.length] ?? "#888",
  };
}

/**
 * At most `max` lines: the ones with the most in the window, and the rest summed into one
 * "N others" line. A director with 200 services would otherwise get a chart of 200 lines,
 * unreadable and slow to draw.
 */
export function topLines(lines: readonly ChartLine[], max: number): ChartLine[] {
  if (lines.length <= max) return [...lines];
  const total = (l: ChartLine) => l.points.reduce((a, p) => a + p.value, 0);
  const ranked = [...lines].sort((a, b) => total(b) - total(a));
  const rest = ranked.slice(max - 1);
  const sums = new Map<number, number>();
  for (const l of rest) for (const p of l.points) sums.set(p.at, (sums.get(p.at) ?? 0) + p.value);
  const others: ChartLine = {
    label: `${rest.reduce((a, l) => a + (l.count ?? 1), 0)} others`,
    points: [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([at, value]) => ({ at, value })),
  };
  return [...ranked.slice(0, max - 1), others];
}
