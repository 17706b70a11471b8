import Link from "next/link";
import {
  formatEndpoint,
  formatServiceKey,
  type RealserverRule,
  type RealserverState,
  type ServiceState,
} from "@/server/ipvs/model";
import type { ServiceOwnership } from "@/server/ipvs/keepalived";
import { zeroWeightReason, type ZeroWeight } from "@/server/ipvs/lasting/route";
import { cn } from "@/components/cn";
import { formatCount, formatPercent } from "@/components/format";
import { Badge } from "@/components/ui/badge";
import { ShareBar } from "@/components/ui/share-bar";
import { WeightEditor } from "./weight-editor";
import { type Action, type DrainOf, destructiveChange } from "./actions";
import { RowActions } from "./row-actions";
import { DoctorMarker, type DoctorFor } from "./doctor-marker";

const FORWARD_SHORT: Record<RealserverRule["forward"], string> = {
  masq: "Masq",
  route: "Route",
  tunnel: "Tunnel",
};

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

const ZERO_LABEL: Record<ZeroWeight, { text: string; title: string; variant: "warn" | "info" }> = {
  "checker-down": {
    text: "checker down",
    title: "keepalived's checker holds it at 0; it comes back when the check passes",
    variant: "warn",
  },
  "drained-in-config": {
    text: "drained",
    title: "weight 0 in keepalived's config: stays drained through reloads and failovers",
    variant: "info",
  },
  "drained-at-runtime": { text: "drained", title: "weight 0", variant: "info" },
};

export function RealserverTable({
  service,
  drainOf,
  doctorFor,
  ownership,
  onAction,
}: {
  service: ServiceState;
  drainOf: DrainOf;
  doctorFor: DoctorFor;
  ownership?: ServiceOwnership;
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
            findings={doctorFor(r)}
            ownership={ownership?.realservers.find(
              (o) => o.address === r.address && o.port === r.port,
            )}
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
  findings,
  ownership,
  onAction,
}: {
  service: ServiceState;
  r: RealserverState;
  totalWeight: number;
  totalActive: number;
  drain: { id: number; state: string } | undefined;
  findings: Parameters<typeof DoctorMarker>[0]["findings"];
  ownership: ServiceOwnership["realservers"][number] | undefined;
  onAction: (a: Action) => void;
}) {
  const ep = formatEndpoint(r);
  const svc = formatServiceKey(service.key);
  const label = `${ep} in ${svc}`;
  const weightShare = totalWeight > 0 ? r.weight / totalWeight : 0;
  const connShare = totalActive > 0 ? r.activeConns / totalActive : null;
  const zero = zeroWeightReason(r.weight, ownership);
  const lastingDrained = zero === "drained-in-config" || ownership?.configuredWeight === 0;
  return (
    <tr className="border-t hover:bg-muted/40" data-realserver={ep} data-service={svc}>
      <td className="px-2 py-0.5 font-mono">
        <Link
          className="text-primary hover:underline"
          href={`/realservers/${encodeURIComponent(r.address)}`}
        >
          {ep}
        </Link>
        <DoctorMarker findings={findings} />
        {drain && (
          <Link href={`/drains/${drain.id}`} className="ml-1">
            <Badge variant="info">{drain.state}</Badge>
          </Link>
        )}
        {zero && !drain && (
          <Badge
            className="ml-1"
            variant={ZERO_LABEL[zero].variant}
            title={ZERO_LABEL[zero].title}
            data-zero-weight={zero}
          >
            {ZERO_LABEL[zero].text}
          </Badge>
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
            lastingDrained
              ? {
                  label: "Undrain",
                  ariaLabel: `Undrain ${ep}`,
                  onClick: () =>
                    onAction({
                      kind: "lastingUndrain",
                      service: service.key,
                      realserver: { address: r.address, port: r.port },
                    }),
                }
              : {
                  label: "Drain",
                  ariaLabel: `Drain ${ep}`,
                  disabled: drain !== undefined,
                  onClick: () =>
                    onAction({
                      kind: "drain",
                      service: service.key,
                      realserver: { address: r.address, port: r.port },
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
