import { cn } from "@/components/cn";

/** A fixed-size SVG trend line; no tooltip, no axes: the number beside it tells the value. */
export function Sparkline({
  values,
  width = 80,
  height = 20,
  label,
  className,
}: {
  values: readonly number[];
  width?: number;
  height?: number;
  label: string;
  className?: string;
}) {
  const max = Math.max(1e-9, ...values);
  const n = values.length;
  const step = n > 1 ? width / (n - 1) : width;
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`,
  );
  return (
    <svg
      role="img"
      aria-label={label}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      className={cn("shrink-0 text-chart-1", className)}
    >
      <line
        x1={0}
        x2={width}
        y1={height - 0.5}
        y2={height - 0.5}
        className="stroke-border"
        strokeWidth={1}
      />
      {n > 1 && (
        <polyline
          points={points.join(" ")}
          fill="none"
          stroke="currentColor"
          strokeWidth={1.25}
          strokeLinejoin="round"
        />
      )}
    </svg>
  );
}
