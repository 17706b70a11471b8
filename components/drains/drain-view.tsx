"use client";
/**
 * One drain, live: its state, the remaining connections as counts, a progress bar and a
 * chart, and the Undrain, Remove and Abandon actions while it is open.
 */
import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useState } from "react";
import type { DrainProgress } from "@/components/trpc";
import { errorMessage } from "@/components/errors";
import { formatClock, formatCount, formatDateTime } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { liveStateOf } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConnectionStatus } from "@/components/ui/connection-status";
import { Progress } from "@/components/ui/progress";
import { DrainChart, drainPoints } from "./drain-chart";
import { AbandonDrainDialog } from "./abandon-dialog";
import { DrainClosed } from "./drain-closed";
import { RemoveDialog, UndrainDialog } from "./drain-dialogs";
import { formatTarget } from "./drain-target";
import { DrainWeightsTable } from "./drain-weights-table";

const MAX_POINTS = 600;

/** The counts above the chart: label, and key in the progress totals (and the test id). */
const TOTALS = [
  ["Active", "active"],
  ["Inactive", "inactive"],
  ["Persistent", "persistent"],
] as const;

function total(p: Pick<DrainProgress, "totals">): number {
  return p.totals.active + p.totals.inactive + p.totals.persistent;
}

export function DrainView({ drainId }: { drainId: number }) {
  const zone = useTimeZone();
  const trpc = useTRPC();
  const now = useNow();
  const drain = useQuery(trpc.drains.get.queryOptions({ drainId }, { refetchInterval: 5_000 }));
  const [points, setPoints] = useState<DrainProgress[]>([]);
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const [dialog, setDialog] = useState<"undrain" | "remove" | "abandon" | null>(null);
  const active = drain.data
    ? drain.data.state === "draining" || drain.data.state === "drained"
    : false;
  const sub = useSubscription(
    trpc.drains.progress.subscriptionOptions(
      { drainId },
      {
        enabled: active,
        onData: (d) => {
          const p = d.data;
          setLastDataAt(receivedAt());
          setPoints((xs) =>
            xs.length && xs[xs.length - 1]?.at === p.at ? xs : [...xs, p].slice(-MAX_POINTS),
          );
        },
      },
    ),
  );
  const curve = useQuery(
    trpc.history.drain.queryOptions(
      { drainId },
      { refetchInterval: active ? 10_000 : false, placeholderData: (x) => x },
    ),
  );
  const chartPoints = drainPoints(curve.data?.points ?? [], points);
  const latest = points[points.length - 1];
  const peak = Math.max(
    1,
    ...chartPoints.map((p) => p.active + p.inactive + p.persistent),
    ...points.map(total),
  );
  const remaining = latest ? total(latest) : null;
  const fraction = remaining === null ? 0 : 1 - remaining / peak;
  const state = liveStateOf({ status: sub.status, hasData: latest !== undefined, lastDataAt, now });
  const d = drain.data;
  const label = d ? formatTarget(d.realserver) : `drain ${drainId}`;

  return (
    <section className="flex flex-col gap-3" aria-labelledby="drain-title">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="drain-title" className="text-base font-semibold">
          Drain of {label}
        </h1>
        {d && (
          <Badge
            variant={d.state === "drained" ? "ok" : d.state === "draining" ? "info" : "default"}
            data-drain-state={d.state}
          >
            {d.state}
          </Badge>
        )}
        {active && <ConnectionStatus state={state} since={lastDataAt} onRetry={sub.reset} />}
        {d && (
          <span className="text-xs text-muted-foreground">
            cluster {d.clusterId} · started {formatDateTime(d.startedAt, zone)} by {d.user}
          </span>
        )}
      </div>
      {d && <DrainClosed drain={d} />}
      {drain.error && (
        <Alert>
          <AlertTitle>Could not read the drain</AlertTitle>
          <AlertDescription>{errorMessage(drain.error)}</AlertDescription>
        </Alert>
      )}
      {sub.error && (
        <Alert>
          <AlertTitle>Progress updates failed</AlertTitle>
          <AlertDescription>{sub.error.message}</AlertDescription>
        </Alert>
      )}
      {d && (
        <div className="grid grid-cols-[minmax(0,560px)_1fr] gap-4">
          <div className="flex flex-col gap-2 rounded-md border bg-card p-3">
            <div className="flex items-center gap-3 text-sm">
              {TOTALS.map(([label, key]) => (
                <span key={key}>
                  {label}{" "}
                  <b className="num inline-block w-12" data-testid={`drain-${key}`}>
                    {latest ? formatCount(latest.totals[key]) : "—"}
                  </b>
                </span>
              ))}
            </div>
            <Progress value={latest?.drained ? 1 : fraction} label="Drain progress" />
            <DrainChart points={chartPoints} marks={curve.data?.marks ?? []} />
            {latest && latest.waitingFor.length > 0 && active && (
              <Alert data-testid="drain-waiting">
                <AlertTitle>Waiting for {latest.waitingFor.join(", ")}</AlertTitle>
                <AlertDescription>
                  {latest.perDirector
                    .filter((p) => latest.waitingFor.includes(p.directorId))
                    .map(
                      (p) =>
                        `${p.directorId} is ${p.reachability}${p.takenAt === null ? "" : `: its numbers are from ${formatClock(p.takenAt, zone)}`}`,
                    )
                    .join("; ")}
                  . Whether the drain is done is unknown until it answers again.
                </AlertDescription>
              </Alert>
            )}
            {(latest ? latest.drained : d.state === "drained") && active && (
              <Alert variant="info" data-testid="safe-to-remove">
                <AlertTitle>Safe to remove</AlertTitle>
                <AlertDescription>
                  No connections or persistence templates point at {label} any more.
                </AlertDescription>
              </Alert>
            )}
            <div className="flex gap-2">
              <Button variant="outline" disabled={!active} onClick={() => setDialog("undrain")}>
                Undrain
              </Button>
              <Button variant="destructive" disabled={!active} onClick={() => setDialog("remove")}>
                Remove
              </Button>
              <Button variant="ghost" disabled={!active} onClick={() => setDialog("abandon")}>
                Abandon…
              </Button>
              <Link
                className="ml-auto self-center text-xs text-primary hover:underline"
                href={`/realservers/${encodeURIComponent(d.realserver.address)}`}
              >
                {d.realserver.address} everywhere
              </Link>
            </div>
          </div>
          <DrainWeightsTable original={d.original} latest={latest} />
        </div>
      )}
      {d && dialog === "undrain" && (
        <UndrainDialog
          drainId={d.id}
          clusterId={d.clusterId}
          realserver={d.realserver}
          original={d.original}
          onClose={() => setDialog(null)}
        />
      )}
      {d && dialog === "abandon" && (
        <AbandonDrainDialog drainId={d.id} label={label} onClose={() => setDialog(null)} />
      )}
      {d && dialog === "remove" && (
        <RemoveDialog
          drainId={d.id}
          clusterId={d.clusterId}
          realserver={d.realserver}
          original={d.original}
          onClose={() => setDialog(null)}
        />
      )}
    </section>
  );
}
