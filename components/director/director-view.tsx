"use client";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { formatServiceKey, type Endpoint } from "@/server/ipvs/model";
import type { ChangeInput } from "@/server/ipvs/change";
import { DirectorHistory } from "@/components/charts/director-history";
import { useTRPC } from "@/components/trpc";
import { useDirectorLive } from "./use-director";
import { routeAction, routeContext, type Action } from "./actions";
import { ServiceTable } from "./service-table";
import { useDoctorFor } from "./doctor-marker";
import { DirectorErrors, DirectorHeader } from "./director-header";
import { ActionDialogs } from "./action-dialogs";
import { DoctorPanel } from "./doctor-panel";
import { UndoneDrainsAlert } from "@/components/live/outside-changes-alert";
import { OutsideChanges } from "./outside-changes";
import { OwnerPanel } from "./owner-panel";
import { PairPanel } from "./pair-panel";

export function DirectorView({ directorId }: { directorId: string }) {
  const trpc = useTRPC();
  const live = useDirectorLive(directorId);
  const [action, setPicked] = useState<Action | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const status = live.status;
  const snapshot = status?.snapshot ?? null;
  const clusterId = status?.clusterId ?? null;
  // Every action on a keepalived-owned service goes through keepalived's config. Stable
  // across polls (the newest snapshot read when clicked), so the service rows stay memoised.
  const latest = useRef(snapshot);
  useEffect(() => {
    latest.current = snapshot;
  });
  const setAction = useCallback(
    (a: Action | null) => setPicked(a && routeAction(a, routeContext(latest.current))),
    [],
  );
  const onToggle = useCallback(
    (name: string) =>
      setCollapsed((c) => {
        const n = new Set(c);
        if (c.has(name)) n.delete(name);
        else n.add(name);
        return n;
      }),
    [],
  );
  const drains = useQuery(
    trpc.drains.list.queryOptions(
      { clusterId: clusterId ?? undefined, active: true },
      { enabled: clusterId !== null, refetchInterval: 5_000 },
    ),
  );

  const doctorFor = useDoctorFor(directorId);
  // The history's service list, the same array while the services are (the page renders
  // every second for the live indicator; the charts and tables below are memoised).
  const serviceNamesKey = snapshot?.services.map((s) => formatServiceKey(s.key)).join("\n") ?? "";
  const serviceNames = useMemo(
    () => (serviceNamesKey === "" ? [] : serviceNamesKey.split("\n")),
    [serviceNamesKey],
  );
  const drainList = drains.data;
  const drainOf = useCallback(
    (rs: Endpoint) =>
      drainList?.find(
        (d) =>
          d.realserver.address === rs.address &&
          (d.realserver.port === null || d.realserver.port === rs.port),
      ),
    [drainList],
  );

  // Every dialog closes back to the page; the forms hand their change on to the plan dialog.
  const onDialogOpenChange = (open: boolean) => {
    if (!open) setAction(null);
  };
  const review = (change: ChangeInput, title: string) =>
    setAction({ kind: "change", change, title });

  return (
    <section className="flex flex-col gap-3" aria-labelledby="director-title">
      <DirectorHeader
        directorId={directorId}
        clusterId={clusterId}
        live={live}
        onAction={setAction}
      />
      <DirectorErrors directorId={directorId} live={live} onAction={setAction} />
      {status && !snapshot && !status.error && (
        <p className="text-sm text-muted-foreground">Waiting for the first poll…</p>
      )}

      {clusterId && <UndoneDrainsAlert clusterId={clusterId} />}
      {snapshot && <OwnerPanel owner={snapshot.owner} />}
      {status && snapshot && (
        <PairPanel
          directorId={status.directorId}
          clusterId={status.clusterId}
          rulesFile={snapshot.owner?.rulesFile ?? null}
        />
      )}
      <OutsideChanges directorId={directorId} />
      {snapshot && <DoctorPanel directorId={directorId} />}
      {snapshot && clusterId && (
        <ServiceTable
          services={snapshot.services}
          collapsed={collapsed}
          onToggle={onToggle}
          drainOf={drainOf}
          doctorFor={doctorFor}
          owned={snapshot.owner?.services}
          onAction={setAction}
        />
      )}
      {snapshot && <DirectorHistory directorId={directorId} services={serviceNames} />}
      <ActionDialogs
        action={action}
        directorId={directorId}
        clusterId={clusterId}
        onOpenChange={onDialogOpenChange}
        onReview={review}
        onTrusted={live.reset}
      />
    </section>
  );
}
