"use client";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useState } from "react";
import { formatServiceKey, sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import type { DrainProgress, PreviewResult } from "@/components/trpc";
import { PlanDialog, type ApplyOutcome, type PreviewState } from "@/components/changes/plan-dialog";
import { errorMessage } from "@/components/errors";
import { formatClock, formatCount, formatDateTime } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { liveStateOf } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConnectionStatus } from "@/components/ui/connection-status";
import { Progress } from "@/components/ui/progress";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { DrainChart, drainPoints } from "./drain-chart";
import { AbandonDrainDialog } from "./abandon-dialog";
import { DrainClosed } from "./drain-closed";

const MAX_POINTS = 600;

interface Original {
  directorId: string;
  service: ServiceKey;
  port: number;
  weight: number;
}

/** The counts above the chart: label, and key in the progress totals (and the test id). */
const TOTALS = [
  ["Active", "active"],
  ["Inactive", "inactive"],
  ["Persistent", "persistent"],
] as const;

/** A drain's realserver: its address, and its port when the drain was for one port only. */
interface DrainTarget {
  address: string;
  port: number | null;
}

function formatTarget(rs: DrainTarget): string {
  return rs.port === null ? rs.address : `${rs.address}:${rs.port}`;
}

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
          <div className="rounded-md border bg-card">
            <Table aria-label="Recorded weights and remaining connections">
              <TableHeader>
                <TableRow>
                  <TableHead>Director</TableHead>
                  <TableHead>Service</TableHead>
                  <TableHead className="text-right">Old weight</TableHead>
                  <TableHead className="text-right">Active</TableHead>
                  <TableHead className="text-right">Inactive</TableHead>
                  <TableHead className="text-right">Persistent</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {d.original.map((o, i) => {
                  const s = latest?.perDirector
                    .find((x) => x.directorId === o.directorId)
                    ?.services.find((x) => sameServiceKey(x.service, o.service));
                  return (
                    <TableRow key={i}>
                      <TableCell>{o.directorId}</TableCell>
                      <TableCell className="font-mono">
                        {formatServiceKey(o.service)} → :{o.port}
                      </TableCell>
                      <TableCell className="num">{o.weight}</TableCell>
                      <TableCell className="num">{s ? formatCount(s.activeConns) : "—"}</TableCell>
                      <TableCell className="num">
                        {s ? formatCount(s.inactiveConns) : "—"}
                      </TableCell>
                      <TableCell className="num">
                        {s?.persistentConns == null ? "—" : formatCount(s.persistentConns)}
                      </TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
          </div>
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

function selector(rs: DrainTarget): {
  address: string;
  port?: number;
} {
  return rs.port === null ? { address: rs.address } : { address: rs.address, port: rs.port };
}

function uniqueTargets(original: readonly Original[]): Original[] {
  const out: Original[] = [];
  for (const o of original)
    if (!out.some((x) => sameServiceKey(x.service, o.service) && x.port === o.port)) out.push(o);
  return out;
}

interface DrainActionProps {
  drainId: number;
  clusterId: string;
  realserver: DrainTarget;
  original: Original[];
  onClose: () => void;
}

export function UndrainDialog({
  drainId,
  clusterId,
  realserver,
  original,
  onClose,
}: DrainActionProps) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const weights = uniqueTargets(original).map((o) => ({
    service: o.service,
    port: o.port,
    weight: o.weight,
  }));
  const preview = useQuery(
    trpc.changes.preview.queryOptions(
      { clusterId, change: { kind: "undrain", realserver: selector(realserver), weights } },
      { staleTime: 0, gcTime: 0, retry: false, enabled: weights.length > 0 },
    ),
  );
  return (
    <DrainPlanDialog
      verb="Undrain"
      realserver={realserver}
      description="Puts back the weights recorded when the drain started."
      preview={preview}
      apply={(expectedVersions) => client.drains.undrain.mutate({ drainId, expectedVersions })}
      onClose={onClose}
    />
  );
}

function RemoveDialog({ drainId, clusterId, realserver, original, onClose }: DrainActionProps) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const targets = uniqueTargets(original);
  const previews = useQueries({
    queries: targets.map((o) =>
      trpc.changes.preview.queryOptions(
        {
          clusterId,
          change: {
            kind: "removeRealserver",
            service: o.service,
            realserver: { address: realserver.address, port: o.port },
          },
        },
        { staleTime: 0, gcTime: 0, retry: false },
      ),
    ),
  });
  // One dialog for the removal from every service: the previews merged per director, in order.
  const all = previews.map((p) => p.data);
  let data: PreviewResult | undefined;
  if (all.length > 0 && all.every((x) => x !== undefined)) {
    const done = all.filter((x): x is PreviewResult => x !== undefined);
    const first = done[0];
    if (first) {
      data = {
        versions: first.versions,
        warnings: done.flatMap((x) => x.warnings),
        perDirector: first.perDirector.map((d0) => {
          const parts = done
            .map((x) => x.perDirector.find((d) => d.directorId === d0.directorId))
            .filter((x) => x !== undefined);
          const refused = parts.find((p) => !p.ok);
          if (refused) return refused;
          return {
            directorId: d0.directorId,
            ok: true as const,
            steps: parts.flatMap((p) => (p.ok ? p.steps : [])),
          };
        }),
      };
    }
  }
  const preview: PreviewState = {
    data,
    error: previews.find((p) => p.error)?.error ?? null,
    isPending: previews.some((p) => p.isPending),
    isFetching: previews.some((p) => p.isFetching),
    refetch: () => previews.forEach((p) => void p.refetch()),
  };
  return (
    <DrainPlanDialog
      verb="Remove"
      realserver={realserver}
      description="Removes the drained realserver from every service it served in, on every director."
      preview={preview}
      destructive
      apply={(expectedVersions) => client.drains.remove.mutate({ drainId, expectedVersions })}
      onClose={onClose}
    />
  );
}

/**
 * What Undrain and Remove share: the plan for the drained realserver, applied by one drains.*
 * mutation that carries the versions the operator reviewed.
 */
function DrainPlanDialog({
  verb,
  realserver,
  description,
  preview,
  destructive,
  apply,
  onClose,
}: {
  verb: string;
  realserver: DrainTarget;
  description: string;
  preview: PreviewState;
  destructive?: boolean;
  apply: (expectedVersions: Record<string, string>) => Promise<ApplyOutcome>;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  return (
    <PlanDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={`${verb} ${formatTarget(realserver)}`}
      description={description}
      preview={preview}
      applyLabel={verb}
      destructive={destructive}
      onApply={async ({ versions }) => {
        const { ok, results } = await apply(versions);
        return { ok, results };
      }}
      onApplied={() => {
        void queryClient.invalidateQueries();
        onClose();
      }}
    />
  );
}
