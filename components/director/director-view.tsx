"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Fragment, useState } from "react";
import {
  formatEndpoint,
  formatServiceKey,
  type RealserverRule,
  type RealserverState,
  type ServiceKey,
  type ServiceRule,
  type ServiceState,
} from "@/server/ipvs/model";
import type { ChangeInput } from "@/server/ipvs/planner";
import { cn } from "@/components/cn";
import { ChangeDialog } from "@/components/changes/change-dialog";
import { DrainDialog } from "@/components/changes/drain-dialog";
import { LastingDialog } from "@/components/changes/lasting-dialog";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import { ConsoleErrorAlert } from "@/components/changes/error-panel";
import { RealserverFormDialog } from "@/components/changes/realserver-form";
import { ServiceFormDialog } from "@/components/changes/service-form";
import { TrustHostKeyDialog } from "@/components/changes/trust-dialog";
import { isJumpHostKey, trustableHostKey } from "@/components/errors";
import { formatByteRate, formatCount, formatPercent, formatRate } from "@/components/format";
import { ReachabilityBadge } from "@/components/live/reachability-badge";
import { LiveErrorAlert } from "@/components/live/live-error-alert";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button, buttonVariants } from "@/components/ui/button";
import { ConnectionStatus, formatClock } from "@/components/ui/connection-status";
import { ShareBar } from "@/components/ui/share-bar";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { UndoneDrainsAlert } from "@/components/live/outside-changes-alert";
import { OutsideChanges } from "./outside-changes";
import { OwnerPanel } from "./owner-panel";
import { useDirectorLive } from "./use-director";
import { WeightEditor } from "./weight-editor";

type Action =
  | {
      kind: "change";
      change: ChangeInput;
      title: string;
      applyLabel?: string;
      destructive?: boolean;
    }
  | { kind: "realserverForm"; service: ServiceKey; existing?: RealserverRule }
  | { kind: "serviceForm"; existing?: ServiceRule }
  | { kind: "drain"; realserver: { address: string; port?: number } }
  | { kind: "lasting"; change: LastingChange; title: string }
  | { kind: "trust"; fingerprint: string };

const FORWARD_SHORT: Record<RealserverRule["forward"], string> = {
  masq: "Masq",
  route: "Route",
  tunnel: "Tunnel",
};

/** Heads after the expand column: [label, classes]. */
const SERVICE_COLUMNS: readonly (readonly [string, string])[] = [
  ["Virtual service", "w-52"],
  ["Sched", "w-14"],
  ["Persistence", "w-36"],
  ["Flags", "w-44"],
  ["Conns", "w-24 text-right"],
  ["InBytes", "w-28 text-right"],
  ["OutBytes", "w-28 text-right"],
  ["CPS", "w-16 text-right"],
  ["In/s", "w-20 text-right"],
  ["Out/s", "w-20 text-right"],
  ["Actions", "text-right"],
];

/** The realserver sub-table's heads: [label, classes besides px-2 font-medium]. */
const REALSERVER_COLUMNS: readonly (readonly [string, string])[] = [
  ["Realserver", "w-40 py-0.5 text-left"],
  ["Fwd", "w-14 text-left"],
  ["Weight", "w-32 text-left"],
  ["Weight / active share", "w-36 text-left"],
  ["ActiveConn", "w-20 text-right"],
  ["InActConn", "w-20 text-right"],
  ["PersistConn", "w-20 text-right"],
  ["Thresh x / y", "w-24 text-right"],
  ["Conns", "w-20 text-right"],
  ["Actions", "w-44 text-right"],
];

/** A change that takes something away: its plan dialog applies with the verb, in red. */
function destructiveChange(verb: "Delete" | "Remove", what: string, change: ChangeInput): Action {
  return { kind: "change", change, title: `${verb} ${what}`, applyLabel: verb, destructive: true };
}

function flagsOf(s: ServiceState): string {
  const f: string[] = [];
  if (s.ops) f.push("ops");
  f.push(...s.schedFlags);
  if (s.pe) f.push(`pe ${s.pe}`);
  return f.join(", ");
}

export function DirectorView({ directorId }: { directorId: string }) {
  const trpc = useTRPC();
  const live = useDirectorLive(directorId);
  const [action, setAction] = useState<Action | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const status = live.status;
  const snapshot = status?.snapshot ?? null;
  const clusterId = status?.clusterId ?? null;
  const drains = useQuery(
    trpc.drains.list.queryOptions(
      { clusterId: clusterId ?? undefined, active: true },
      { enabled: clusterId !== null, refetchInterval: 5_000 },
    ),
  );
  const hostKeyFingerprint = trustableHostKey(status?.error)?.fingerprint ?? null;

  function drainOf(rs: { address: string; port: number }) {
    return drains.data?.find(
      (d) =>
        d.realserver.address === rs.address &&
        (d.realserver.port === null || d.realserver.port === rs.port),
    );
  }

  // Every dialog closes back to the page; the forms hand their change on to the plan dialog.
  const onDialogOpenChange = (open: boolean) => {
    if (!open) setAction(null);
  };
  const review = (change: ChangeInput, title: string) =>
    setAction({ kind: "change", change, title });

  return (
    <section className="flex flex-col gap-3" aria-labelledby="director-title">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="director-title" className="text-base font-semibold">
          Director {directorId}
        </h1>
        {clusterId && <span className="text-xs text-muted-foreground">cluster {clusterId}</span>}
        <ConnectionStatus state={live.state} since={live.since} onRetry={live.reset} />
        {status && <ReachabilityBadge status={status} />}
        {snapshot && (
          <span className="text-xs text-muted-foreground">
            poll {formatClock(snapshot.takenAt)} · rules{" "}
            <span className="font-mono">{snapshot.version.slice(0, 12)}</span>
            {snapshot.ipvsadm &&
              ` · ipvsadm v${snapshot.ipvsadm.ipvsadm} (IPVS ${snapshot.ipvsadm.ipvs})`}{" "}
            · {formatCount(snapshot.connectionCount)} entries
          </span>
        )}
        <div className="ml-auto flex gap-2">
          <Link
            className={buttonVariants({ variant: "outline", size: "sm" })}
            href={`/directors/${encodeURIComponent(directorId)}/connections`}
          >
            Connections
          </Link>
          <Button
            size="sm"
            disabled={!clusterId}
            onClick={() => setAction({ kind: "serviceForm" })}
          >
            Add virtual service
          </Button>
        </div>
      </div>

      <LiveErrorAlert error={live.error} />
      {status?.error && (
        <div className="flex flex-col gap-1">
          <ConsoleErrorAlert
            error={status.error}
            title={`${directorId} is ${status.reachability}`}
          />
          {isJumpHostKey(status.error) && (
            <p className="text-sm text-muted-foreground" data-testid="jump-host-key-note">
              This is the key of the jump host in front of {directorId}. Jump host keys are not
              trusted from the console: an administrator adds it to the jump host&apos;s
              knownHostsPath or pins it as jumpHost.hostKeyFingerprint in lvs-console.yaml.
            </p>
          )}
          {hostKeyFingerprint && (
            <div>
              <Button
                size="sm"
                onClick={() => setAction({ kind: "trust", fingerprint: hostKeyFingerprint })}
              >
                Review host key…
              </Button>
            </div>
          )}
        </div>
      )}
      {status && !snapshot && !status.error && (
        <p className="text-sm text-muted-foreground">Waiting for the first poll…</p>
      )}
      {clusterId && <UndoneDrainsAlert clusterId={clusterId} />}
      {status && <OwnerPanel status={status} />}
      <OutsideChanges directorId={directorId} />

      {snapshot && clusterId && (
        <div className="rounded-md border bg-card">
          <Table aria-label="Virtual services">
            <TableHeader>
              <TableRow>
                <TableHead className="w-7">
                  <span className="sr-only">Expand</span>
                </TableHead>
                {SERVICE_COLUMNS.map(([label, className]) => (
                  <TableHead key={label} className={className}>
                    {label}
                  </TableHead>
                ))}
              </TableRow>
            </TableHeader>
            <TableBody>
              {snapshot.services.length === 0 && (
                <TableRow>
                  <TableCell colSpan={12} className="text-muted-foreground">
                    No virtual services on this director.
                  </TableCell>
                </TableRow>
              )}
              {snapshot.services.map((s) => {
                const name = formatServiceKey(s.key);
                const open = !collapsed.has(name);
                return (
                  <Fragment key={name}>
                    <TableRow data-service={name} className="bg-muted/20 font-medium">
                      <TableCell>
                        <Button
                          variant="ghost"
                          size="xs"
                          aria-expanded={open}
                          aria-label={`${open ? "Collapse" : "Expand"} ${name}`}
                          onClick={() =>
                            setCollapsed((c) => {
                              const n = new Set(c);
                              if (open) n.add(name);
                              else n.delete(name);
                              return n;
                            })
                          }
                        >
                          {open ? "▾" : "▸"}
                        </Button>
                      </TableCell>
                      <TableCell className="font-mono">{name}</TableCell>
                      <TableCell>{s.scheduler}</TableCell>
                      <TableCell className="whitespace-nowrap">
                        {s.persistence
                          ? `${s.persistence.timeout} s${s.persistence.netmask !== null ? ` /${String(s.persistence.netmask)}` : ""}`
                          : "—"}
                      </TableCell>
                      <TableCell
                        className="truncate whitespace-nowrap text-muted-foreground"
                        title={flagsOf(s)}
                      >
                        {flagsOf(s) || "—"}
                      </TableCell>
                      <TableCell
                        className="num"
                        title={
                          s.counters
                            ? `in ${formatCount(s.counters.inPackets)} pkts, out ${formatCount(s.counters.outPackets)} pkts`
                            : undefined
                        }
                      >
                        {formatCount(s.counters?.conns)}
                      </TableCell>
                      <TableCell className="num">{formatCount(s.counters?.inBytes)}</TableCell>
                      <TableCell className="num">{formatCount(s.counters?.outBytes)}</TableCell>
                      <TableCell className="num">{formatRate(s.rates?.cps, "")}</TableCell>
                      <TableCell className="num">{formatByteRate(s.rates?.inBps)}</TableCell>
                      <TableCell className="num">{formatByteRate(s.rates?.outBps)}</TableCell>
                      <TableCell className="text-right whitespace-nowrap">
                        <RowActions
                          actions={[
                            {
                              label: "Add realserver",
                              ariaLabel: `Add realserver to ${name}`,
                              onClick: () => setAction({ kind: "realserverForm", service: s.key }),
                            },
                            {
                              label: "Edit",
                              ariaLabel: `Edit ${name}`,
                              onClick: () => setAction({ kind: "serviceForm", existing: s }),
                            },
                            {
                              label: "Delete",
                              ariaLabel: `Delete ${name}`,
                              danger: true,
                              onClick: () =>
                                setAction(
                                  destructiveChange("Delete", name, {
                                    kind: "deleteService",
                                    service: s.key,
                                  }),
                                ),
                            },
                          ]}
                        />
                      </TableCell>
                    </TableRow>
                    {open && (
                      <TableRow className="hover:bg-transparent">
                        <TableCell />
                        <TableCell colSpan={11} className="py-1 pr-0">
                          <RealserverTable service={s} drainOf={drainOf} onAction={setAction} />
                        </TableCell>
                      </TableRow>
                    )}
                  </Fragment>
                );
              })}
            </TableBody>
          </Table>
        </div>
      )}

      {action?.kind === "change" && clusterId && (
        <ChangeDialog
          clusterId={clusterId}
          change={action.change}
          title={action.title}
          applyLabel={action.applyLabel}
          destructive={action.destructive}
          onOpenChange={onDialogOpenChange}
        />
      )}
      {action?.kind === "realserverForm" && (
        <RealserverFormDialog
          service={action.service}
          existing={action.existing}
          onOpenChange={onDialogOpenChange}
          onSubmit={(change) =>
            review(
              change,
              change.kind === "addRealserver" || change.kind === "editRealserver"
                ? `${change.kind === "addRealserver" ? "Add" : "Edit"} realserver ${change.realserver.address}:${String(change.realserver.port)}`
                : "Change realserver",
            )
          }
        />
      )}
      {action?.kind === "serviceForm" && (
        <ServiceFormDialog
          existing={action.existing}
          onOpenChange={onDialogOpenChange}
          onSubmit={(change) =>
            review(
              change,
              change.kind === "addService" ? "Add virtual service" : "Edit virtual service",
            )
          }
        />
      )}
      {action?.kind === "drain" && clusterId && (
        <DrainDialog
          clusterId={clusterId}
          realserver={action.realserver}
          onOpenChange={onDialogOpenChange}
        />
      )}
      {action?.kind === "lasting" && clusterId && (
        <LastingDialog
          clusterId={clusterId}
          change={action.change}
          title={action.title}
          onOpenChange={onDialogOpenChange}
        />
      )}
      {action?.kind === "trust" && (
        <TrustHostKeyDialog
          open
          directorId={directorId}
          fingerprint={action.fingerprint}
          onOpenChange={onDialogOpenChange}
          onTrusted={live.reset}
        />
      )}
    </section>
  );
}

function RealserverTable({
  service,
  drainOf,
  onAction,
}: {
  service: ServiceState;
  drainOf: (rs: { address: string; port: number }) => { id: number; state: string } | undefined;
  onAction: (a: Action) => void;
}) {
  const name = formatServiceKey(service.key);
  const totalWeight = service.realservers.reduce((a, r) => a + r.weight, 0);
  const totalActive = service.realservers.reduce((a, r) => a + r.activeConns, 0);
  if (service.realservers.length === 0) {
    return (
      <p className="py-1 text-xs text-muted-foreground">
        No realservers: clients of this service are refused.
      </p>
    );
  }
  return (
    <table className="w-full table-fixed text-xs" aria-label={`Realservers of ${name}`}>
      <thead className="text-muted-foreground">
        <tr>
          {REALSERVER_COLUMNS.map(([label, className]) => (
            <th key={label} scope="col" className={cn("px-2 font-medium", className)}>
              {label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {service.realservers.map((r) => (
          <RealserverRow
            key={`${r.address}|${r.port}`}
            service={service}
            r={r}
            totalWeight={totalWeight}
            totalActive={totalActive}
            drain={drainOf(r)}
            onAction={onAction}
          />
        ))}
      </tbody>
    </table>
  );
}

function RealserverRow({
  service,
  r,
  totalWeight,
  totalActive,
  drain,
  onAction,
}: {
  service: ServiceState;
  r: RealserverState;
  totalWeight: number;
  totalActive: number;
  drain: { id: number; state: string } | undefined;
  onAction: (a: Action) => void;
}) {
  const ep = formatEndpoint(r);
  const svc = formatServiceKey(service.key);
  const label = `${ep} in ${svc}`;
  const weightShare = totalWeight > 0 ? r.weight / totalWeight : 0;
  const connShare = totalActive > 0 ? r.activeConns / totalActive : null;
  return (
    <tr className="border-t hover:bg-muted/40" data-realserver={ep} data-service={svc}>
      <td className="px-2 py-0.5 font-mono">
        <Link
          className="text-primary hover:underline"
          href={`/realservers/${encodeURIComponent(r.address)}`}
        >
          {ep}
        </Link>
        {drain && (
          <Link href={`/drains/${drain.id}`} className="ml-1">
            <Badge variant="info">{drain.state}</Badge>
          </Link>
        )}
      </td>
      <td className="px-2">{FORWARD_SHORT[r.forward]}</td>
      <td className="px-2">
        <WeightEditor
          key={r.weight}
          weight={r.weight}
          label={label}
          onCommit={(weight) =>
            onAction({
              kind: "change",
              change: {
                kind: "setWeight",
                service: service.key,
                realserver: { address: r.address, port: r.port },
                weight,
              },
              title: `Set weight of ${label} to ${weight}`,
            })
          }
        />
      </td>
      <td className="px-2">
        <div className="flex items-center gap-1.5">
          <ShareBar weightShare={weightShare} connShare={connShare} />
          <span className="num w-16 text-muted-foreground">
            {formatPercent(weightShare)}/{connShare === null ? "—" : formatPercent(connShare)}
          </span>
        </div>
      </td>
      <td className="num px-2">{formatCount(r.activeConns)}</td>
      <td className="num px-2">{formatCount(r.inactiveConns)}</td>
      <td className="num px-2">
        {r.persistentConns === null ? "—" : formatCount(r.persistentConns)}
      </td>
      <td className="num px-2">
        {r.upperThreshold || "—"} / {r.lowerThreshold || "—"}
      </td>
      <td className="num px-2">{formatCount(r.counters?.conns)}</td>
      <td className="px-2 text-right whitespace-nowrap">
        <RowActions
          actions={[
            {
              label: "Drain",
              ariaLabel: `Drain ${ep}`,
              disabled: drain !== undefined,
              onClick: () =>
                onAction({ kind: "drain", realserver: { address: r.address, port: r.port } }),
            },
            {
              label: "Drain in config",
              ariaLabel: `Drain ${label} in keepalived's config`,
              onClick: () =>
                onAction({
                  kind: "lasting",
                  change: {
                    kind: "weight",
                    service: service.key,
                    realserver: { address: r.address, port: r.port },
                    weight: 0,
                  },
                  title: `Drain ${label} in keepalived's config`,
                }),
            },
            {
              label: "Edit",
              ariaLabel: `Edit ${label}`,
              onClick: () =>
                onAction({ kind: "realserverForm", service: service.key, existing: r }),
            },
            {
              label: "Remove",
              ariaLabel: `Remove ${label}`,
              danger: true,
              onClick: () =>
                onAction(
                  destructiveChange("Remove", label, {
                    kind: "removeRealserver",
                    service: service.key,
                    realserver: { address: r.address, port: r.port },
                  }),
                ),
            },
          ]}
        />
      </td>
    </tr>
  );
}

interface RowAction {
  label: string;
  ariaLabel: string;
  onClick: () => void;
  disabled?: boolean;
  danger?: boolean;
}

/** The small outline buttons at the end of a service or realserver row. */
function RowActions({ actions }: { actions: RowAction[] }) {
  return actions.map((a, i) => (
    <Fragment key={a.label}>
      {i > 0 && " "}
      <Button
        size="xs"
        variant="outline"
        className={a.danger ? "text-danger" : undefined}
        aria-label={a.ariaLabel}
        disabled={a.disabled}
        onClick={a.onClick}
      >
        {a.label}
      </Button>
    </Fragment>
  ));
}
