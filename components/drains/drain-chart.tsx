import type { DrainProgress } from "@/components/trpc";

const W = 520;
const H = 140;
const PAD = 24;

const LINES = [
  { key: "active", label: "ActiveConn", className: "stroke-chart-1" },
  { key: "inactive", label: "InActConn", className: "stroke-chart-2" },
  { key: "persistent", label: "PersistConn", className: "stroke-chart-3" },
] as const;

/** ActiveConn, InActConn and PersistConn falling over the drain, from the progress pushes. */
export function DrainChart({
  points,
}: {
  points: ReadonlyArray<Pick<DrainProgress, "at" | "totals">>;
}) {
  const t0 = points[0]?.at ?? 0;
  const t1 = Math.max(t0 + 1, points[points.length - 1]?.at ?? t0 + 1);
  const max = Math.max(
    1,
    ...points.flatMap((p) => [p.totals.active, p.totals.inactive, p.totals.persistent]),
  );
  const x = (at: number) => PAD + ((at - t0) / (t1 - t0)) * (W - PAD * 2);
  const y = (v: number) => H - PAD + -((v / max) * (H - PAD * 1.5));
  return (
    <figure className="flex flex-col gap-1">
      <svg
        role="img"
        aria-label="Connections to the drained realserver over time"
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        className="max-w-full"
      >
        <line x1={PAD} x2={W - PAD} y1={H - PAD} y2={H - PAD} className="stroke-border" />
        <line x1={PAD} x2={PAD} y1={PAD / 2} y2={H - PAD} className="stroke-border" />
        <text
          x={PAD - 4}
          y={PAD / 2 + 4}
          textAnchor="end"
          className="fill-muted-foreground text-[10px]"
        >
          {max}
        </text>
        <text
          x={PAD - 4}
          y={H - PAD}
          textAnchor="end"
          className="fill-muted-foreground text-[10px]"
        >
          0
        </text>
        {points.length > 1 &&
          LINES.map((l) => (
            <polyline
              key={l.key}
              fill="none"
              strokeWidth={1.5}
              className={l.className}
              points={points
                .map((p) => `${x(p.at).toFixed(1)},${y(p.totals[l.key]).toFixed(1)}`)
                .join(" ")}
            />
          ))}
      </svg>
      <figcaption className="flex gap-3 text-xs text-muted-foreground">
        {LINES.map((l) => (
          <span key={l.key} className="flex items-center gap-1">
            <svg width={12} height={4} aria-hidden>
              <line x1={0} x2={12} y1={2} y2={2} strokeWidth={2} className={l.className} />
            </svg>
            {l.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
