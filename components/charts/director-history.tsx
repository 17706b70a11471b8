"use client";
import { useQuery } from "@tanstack/react-query";
import { memo, useDeferredValue, useState } from "react";
import { formatByteRate, formatCount, formatRate } from "@/components/format";
import { errorMessage } from "@/components/errors";
import { useTRPC, type RouterOutputs } from "@/components/trpc";
import { Select } from "@/components/ui/input";
import { topLines, type ChartLine } from "./series";
import { TimeChart } from "./time-chart";

type Series = RouterOutputs["history"]["director"]["series"][number];
type Point = Series["points"][number];

const WINDOWS = [
  { id: "15m", label: "15 min", range: "hour", minutes: 15 },
  { id: "1h", label: "1 hour", range: "hour", minutes: 60 },
  { id: "1d", label: "1 day (per minute)", range: "day", minutes: undefined },
] as const;
type WindowId = (typeof WINDOWS)[number]["id"];
/** Lines per chart: the busiest, the rest as one (series.ts topLines). */
const MAX_LINES = 10;

const CHARTS: Array<{ title: string; value: (p: Point) => number; format: (v: number) => string }> =
  [
    { title: "Connections/s", value: (p) => p.cps, format: (v) => formatRate(v, "/s") },
    { title: "Bytes/s (in + out)", value: (p) => p.inBps + p.outBps, format: formatByteRate },
    { title: "Active connections", value: (p) => p.active, format: (v) => formatCount(v) },
  ];

/**
 * The director's history charts, from the console's SQLite history (a reload or a restart
 * loses nothing): for the whole director, one line per service; for one service, one line
 * per realserver.
 */
export const DirectorHistory = memo(function DirectorHistory({
  directorId,
  services,
}: {
  directorId: string;
  /** The services as formatServiceKey names them ("TCP 203.0.113.10:80"). */
  services: readonly string[];
}) {
  const trpc = useTRPC();
  const [service, setService] = useState<string>("");
  const [windowId, setWindowId] = useState<WindowId>("15m");
  const w = WINDOWS.find((x) => x.id === windowId) ?? WINDOWS[0];
  const history = useQuery(
    trpc.history.director.queryOptions(
      {
        directorId,
        ...(service === "" ? {} : { service }),
        range: w.range,
        ...(w.minutes === undefined ? {} : { minutes: w.minutes }),
      },
      {
        refetchInterval: w.range === "hour" ? 5_000 : 60_000,
        placeholderData: (d) => d,
        // New points every refetch: comparing thousands of points to keep equal ones
        // (React Query's structural sharing) cost more than it saved.
        structuralSharing: false,
      },
    ),
  );
  // Rendered when the page has time (the charts are the least urgent thing on it).
  const data = useDeferredValue(history.data);
  // The whole (director, or the service) is the total line; the others are its parts.
  const series = data?.series ?? [];
  // (the server folds all but the lines that can be on top into one, `others` series long)
  const parts = series.filter(
    (s) => s.others > 0 || (service === "" ? s.service !== "" : s.realserver !== ""),
  );

  return (
    <section
      aria-label="History"
      className="flex flex-col gap-2 rounded-md border bg-card p-3"
      data-testid="director-history"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="text-sm font-semibold">History</h2>
        <label className="flex items-center gap-1 text-xs text-muted-foreground">
          Of
          <Select
            aria-label="History of"
            value={service}
            onChange={(e) => setService(e.target.value)}
          >
            <option value="">every service</option>
            {services.map((s) => (
              <option key={s} value={s}>
                {s} by realserver
              </option>
            ))}
          </Select>
        </label>
        <label className="flex items-center gap-1 text-xs text-muted-foreground">
          Last
          <Select
            aria-label="History window"
            value={windowId}
            onChange={(e) => setWindowId(e.target.value as WindowId)}
          >
            {WINDOWS.map((x) => (
              <option key={x.id} value={x.id}>
                {x.label}
              </option>
            ))}
          </Select>
        </label>
        {history.error && (
          <span className="text-xs text-danger">{errorMessage(history.error)}</span>
        )}
      </div>
      {data && parts.length === 0 && (
        <p className="text-xs text-muted-foreground">No history yet: it fills from the polls.</p>
      )}
      {parts.length > 0 && (
        <div className="flex flex-wrap gap-4">
          {CHARTS.map((c) => (
            <TimeChart
              key={c.title}
              label={c.title}
              width={420}
              height={150}
              format={c.format}
              lines={topLines(
                parts.map((s): ChartLine => ({
                  label:
                    s.others > 0 ? `${s.others} others` : service === "" ? s.service : s.realserver,
                  count: Math.max(1, s.others),
                  points: s.points.map((p) => ({ at: p.at, value: c.value(p) })),
                })),
                MAX_LINES,
              )}
            />
          ))}
        </div>
      )}
    </section>
  );
});
