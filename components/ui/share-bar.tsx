import { cn } from "@/components/cn";

/**
 * Two stacked bars: the realserver's share of the service's weight (what the scheduler is
 * told) over its share of active connections (what it got). A gap between them is the thing
 * an operator looks for.
 */
export function ShareBar({
  weightShare,
  connShare,
  className,
}: {
  weightShare: number;
  connShare: number | null;
  className?: string;
}) {
  const w = clamp(weightShare);
  const c = connShare === null ? null : clamp(connShare);
  return (
    <div
      className={cn("flex w-24 flex-col gap-px", className)}
      role="img"
      aria-label={`weight share ${pct(w)}, active connection share ${c === null ? "n/a" : pct(c)}`}
    >
      <div className="h-1.5 w-full bg-muted">
        <div className="h-full bg-chart-1" style={{ width: pct(w) }} />
      </div>
      <div className="h-1.5 w-full bg-muted">
        {c !== null && <div className="h-full bg-chart-2" style={{ width: pct(c) }} />}
      </div>
    </div>
  );
}

function clamp(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
