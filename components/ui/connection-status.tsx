"use client";
import { cn } from "@/components/cn";
import { formatClock } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { Button } from "./button";

export type LiveState = "connecting" | "live" | "reconnecting" | "stale" | "paused";

/**
 * Whether the numbers on screen are current. Driven by the subscription's connection state
 * and, for "stale", by the director's own last good poll.
 */
export function ConnectionStatus({
  state,
  since,
  onRetry,
  className,
}: {
  state: LiveState;
  /** When data was last fresh (ms since epoch): shown as "stale since HH:MM:SS". */
  since: number | null;
  onRetry?: () => void;
  className?: string;
}) {
  const dot =
    state === "live"
      ? "bg-ok"
      : state === "stale"
        ? "bg-danger"
        : state === "paused"
          ? "bg-muted-foreground"
          : "bg-warn animate-pulse";
  const zone = useTimeZone();
  const at = since === null ? "—" : formatClock(since, zone);
  const text =
    state === "live"
      ? "live"
      : state === "connecting"
        ? "connecting…"
        : state === "reconnecting"
          ? "reconnecting…"
          : state === "paused"
            ? `paused at ${at}`
            : `stale since ${at}`;
  return (
    <div
      role="status"
      aria-live="polite"
      data-live-state={state}
      className={cn(
        "inline-flex h-6 items-center gap-1.5 rounded border px-2 text-xs whitespace-nowrap",
        className,
      )}
    >
      <span aria-hidden className={cn("inline-block h-2 w-2 rounded-full", dot)} />
      <span className="min-w-[11.5rem]">{text}</span>
      {onRetry && state !== "live" && state !== "paused" && (
        <Button variant="link" size="xs" className="h-4 px-0" onClick={onRetry}>
          retry
        </Button>
      )}
    </div>
  );
}
