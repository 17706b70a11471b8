"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { memo, useMemo, useRef, useState, type RefObject } from "react";
import type { FleetDirector, FleetSummary, RouterOutputs } from "@/components/trpc";
import { useInView } from "@/components/ui/use-in-view";
import { formatByteRate, formatClock, formatCount, formatRate } from "@/components/format";
import { useFleetSummary } from "@/components/live/use-fleet-summary";
import { LiveErrorAlert } from "@/components/live/live-error-alert";
import { useTRPC } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConnectionStatus } from "@/components/ui/connection-status";
import { useTimeZone } from "@/components/time-zone";
import { DoctorBadge } from "./doctor-badge";
import { TREND_WIDTH_PX, useDirectorTrend } from "@/components/charts/use-trend";
import { Sparkline } from "@/components/charts/sparkline";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { ReachabilityBadge } from "@/components/live/reachability-badge";
import { UndoneDrainsAlert } from "@/components/live/outside-changes-alert";
import { ActiveDirectorBadge, DirectorOwnerBadges } from "./owner-badges";

export function FleetOverview() {
  const zone = useTimeZone();
  const trpc = useTRPC();
  const live = useFleetSummary();
  const inventory = useQuery(trpc.inventory.list.queryOptions());
  const drains = useQuery(
    trpc.drains.list.queryOptions({ active: true }, { refetchInterval: 5_000 }),
  );
  const doctorSummary = useQuery(
    trpc.doctor.summary.queryOptions(undefined, { refetchInterval: 10_000 }),
  );
  const data = live.fleet;

  const hosts = useMemo(() => {
    const m = new Map<string, string>();
    for (const c of inventory.data ?? [])
      for (const d of c.directors) m.set(d.id, `${d.user}@${d.host}:${d.port}`);
    return m;
  }, [inventory.data]);
  const drainsByCluster = useMemo(() => {
    const m = new Map<string, ActiveDrain[]>();
    for (const d of drains.data ?? []) m.set(d.clusterId, [...(m.get(d.clusterId) ?? []), d]);
    return m;
  }, [drains.data]);
  // The query keeps unchanged entries' objects (structural sharing): a refetch re-renders
  // only the rows whose counts changed.
  const doctor = useMemo(
    () => new Map((doctorSummary.data ?? []).map((s) => [s.directorId, s])),
    [doctorSummary.data],
  );

  return (
    <section className="flex flex-col gap-3" aria-labelledby="fleet-title">
      <div className="flex items-center gap-3">
        <h1 id="fleet-title" className="text-base font-semibold">
          Fleet
        </h1>
        <ConnectionStatus state={live.state} since={live.since} onRetry={live.reset} />
        {data && (
          <span className="text-xs text-muted-foreground">pushed {formatClock(data.at, zone)}</span>
        )}
      </div>
      <LiveErrorAlert error={live.error} />
      <UndoneDrainsAlert />
      {inventory.error && (
        <Alert>
          <AlertTitle>Could not read the inventory</AlertTitle>
          <AlertDescription>{inventory.error.message}</AlertDescription>
        </Alert>
      )}
      {!data && !live.error && (
        <p className="text-sm text-muted-foreground">Waiting for the first poll…</p>
      )}
      {data?.clusters.map((cluster) => (
        <ClusterSection
          key={cluster.id}
          cluster={cluster}
          drains={drainsByCluster.get(cluster.id) ?? NO_DRAINS}
          hosts={hosts}
          doctor={doctor}
        />
      ))}
    </section>
  );
}

type FleetCluster = FleetSummary["clusters"][number];
type ActiveDrain = RouterOutputs["drains"]["list"][number];
type DoctorCounts = RouterOutputs["doctor"]["summary"][number];
const NO_DRAINS: ActiveDrain[] = [];

interface ClusterProps {
  cluster: FleetCluster;
  drains: ActiveDrain[];
  hosts: Map<string, string>;
  doctor: Map<string, DoctorCounts>;
}

/**
 * One cluster's card. A push keeps the objects of the clusters it does not touch
 * (fleet-merge.ts), and a card out of view (more than a screen away) keeps showing what it
 * showed until it comes back into view: with 250 pairs, a push that changes 125 directors
 * renders the few on screen, not 125 rows nobody sees.
 */
const ClusterSection = memo(function ClusterSection(props: ClusterProps) {
  const card = useRef<HTMLElement>(null);
  const inView = useInView(card);
  const shown = useHeldWhileHidden(props, inView);
  return <ClusterCard {...shown} inView={inView} card={card} />;
});

/** `value` while visible; hidden, the value it had when it was last visible. */
function useHeldWhileHidden<T>(value: T, visible: boolean): T {
  const [held, setHeld] = useState(value);
  // Derived state, stored during render (react.dev "storing information from previous
  // renders"): the next visible render takes the newest value.
  if (visible && held !== value) setHeld(value);
  return visible ? value : held;
}

const ClusterCard = memo(function ClusterCard({
  cluster,
  drains: clusterDrains,
  hosts,
  doctor,
  inView,
  card,
}: ClusterProps & { inView: boolean; card: RefObject<HTMLElement | null> }) {
  const unreachable = cluster.directors.filter((d) => d.reachability === "unreachable");
  return (
    <section
      ref={card}
      aria-label={`Cluster ${cluster.name}`}
      // Cards out of view are neither styled, laid out nor painted (content-visibility):
      // a push that changes 100 rows off screen costs the browser nothing but the DOM
      // writes. They are still in the DOM: find in page and the accessibility tree see them.
      className="rounded-md border bg-card [contain-intrinsic-size:auto_9rem] [content-visibility:auto]"
      data-cluster={cluster.id}
    >
      <div className="flex flex-wrap items-center gap-2 border-b px-3 py-1.5">
        <h2 className="text-sm font-semibold">{cluster.name}</h2>
        <span className="text-xs text-muted-foreground">{cluster.id}</span>
        <span className="text-xs text-muted-foreground">
          · {cluster.directors.length} director{cluster.directors.length === 1 ? "" : "s"}
        </span>
        <div className="ml-auto flex flex-wrap gap-1">
          <ActiveDirectorBadge
            directors={cluster.directors.map((d) => ({
              directorId: d.directorId,
              owner: d.summary?.owner,
            }))}
          />
          {cluster.rulesDiffer && cluster.directors[0] && (
            <Link
              href={`/directors/${encodeURIComponent(cluster.directors[0].directorId)}#pair`}
              title="What differs, and make one like the other"
            >
              <Badge variant="warn">directors hold different rules: see the diff</Badge>
            </Link>
          )}
          {unreachable.length > 0 && (
            <Badge variant="danger">{unreachable.length} unreachable</Badge>
          )}
          {clusterDrains.map((d) => (
            <Link
              key={d.id}
              href={`/drains/${d.id}`}
              className="rounded focus-visible:outline-2 focus-visible:outline-ring"
            >
              <Badge variant="info">
                {d.state === "drained" ? "drained" : "draining"} {d.realserver.address}
                {d.realserver.port !== null ? `:${d.realserver.port}` : ""}
              </Badge>
            </Link>
          ))}
        </div>
      </div>
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead className="w-40">Director</TableHead>
            <TableHead className="w-52">SSH</TableHead>
            <TableHead className="w-28">Reachability</TableHead>
            <TableHead className="w-20">ipvsadm</TableHead>
            <TableHead className="w-56">Owner</TableHead>
            <TableHead className="w-16 text-right">Services</TableHead>
            <TableHead className="w-20 text-right">Realservers</TableHead>
            <TableHead className="w-20 text-right">ActiveConn</TableHead>
            <TableHead className="w-20 text-right">Entries</TableHead>
            <TableHead className="w-44">Conn rate</TableHead>
            <TableHead className="w-48">Byte rate</TableHead>
            <TableHead>Problem</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {cluster.directors.map((d) => (
            <DirectorRow
              key={d.directorId}
              d={d}
              host={hosts.get(d.directorId)}
              doctor={doctor.get(d.directorId)}
              inView={inView}
            />
          ))}
        </TableBody>
      </Table>
    </section>
  );
});

/** A director's row; out of view (its card's) it reads no history and draws no charts. */
const DirectorRow = memo(function DirectorRow({
  d,
  host,
  doctor,
  inView,
}: {
  d: FleetDirector;
  host: string | undefined;
  doctor: DoctorCounts | undefined;
  inView: boolean;
}) {
  const s = d.summary;
  const t = s?.totals ?? null;
  const trend = useDirectorTrend(
    d.directorId,
    s && t ? { takenAt: s.takenAt, cps: t.cps, bps: t.bps } : null,
    inView,
  );
  return (
    <TableRow data-director={d.directorId} data-reachability={d.reachability}>
      <TableCell className="font-medium">
        <Link
          className="text-primary hover:underline"
          href={`/directors/${encodeURIComponent(d.directorId)}`}
        >
          {d.directorId}
        </Link>
        <DoctorBadge directorId={d.directorId} counts={doctor} />
      </TableCell>
      <TableCell className="font-mono text-muted-foreground">{host ?? "—"}</TableCell>
      <TableCell>
        <ReachabilityBadge status={d} />
      </TableCell>
      <TableCell className="font-mono">{s?.ipvsadm ? `v${s.ipvsadm}` : "—"}</TableCell>
      <TableCell>
        <DirectorOwnerBadges owner={s?.owner} />
      </TableCell>
      <TableCell className="num">{t ? t.services : "—"}</TableCell>
      <TableCell className="num">{t ? t.realservers : "—"}</TableCell>
      <TableCell className="num">{t ? formatCount(t.activeConns) : "—"}</TableCell>
      <TableCell className="num">{s ? formatCount(s.connectionCount) : "—"}</TableCell>
      <TableCell>
        <div className="flex items-center gap-2">
          <span className="num w-20">{t ? formatRate(t.cps, "/s") : "—"}</span>
          {inView && (
            <Sparkline
              points={trend.cps}
              width={TREND_WIDTH_PX}
              label={`connection rate of ${d.directorId}`}
            />
          )}
        </div>
      </TableCell>
      <TableCell>
        <div className="flex items-center gap-2">
          <span className="num w-24">{t ? formatByteRate(t.bps) : "—"}</span>
          {inView && (
            <Sparkline
              points={trend.bps}
              width={TREND_WIDTH_PX}
              label={`byte rate of ${d.directorId}`}
              color={1}
            />
          )}
        </div>
      </TableCell>
      <TableCell className="max-w-0 truncate text-danger" title={d.error?.message}>
        {d.error ? `${d.error.code}: ${d.error.message}` : ""}
      </TableCell>
    </TableRow>
  );
});
