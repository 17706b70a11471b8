import { memo, useDeferredValue, useMemo, useRef, useState } from "react";
import { formatServiceKey, type ServiceState } from "@/server/ipvs/model";
import type { ServiceOwnership } from "@/server/ipvs/keepalived";
import {
  exactBytes,
  formatByteRate,
  formatBytes,
  formatCount,
  formatRate,
} from "@/components/format";
import { Button } from "@/components/ui/button";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { type Action, type DrainOf, destructiveChange } from "./actions";
import { RowActions } from "./row-actions";
import { RealserverTable } from "./realserver-table";
import { serviceMatches } from "./service-filter";
import { useInView } from "@/components/ui/use-in-view";
import type { DoctorFor } from "./doctor-marker";

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

function flagsOf(s: ServiceState): string {
  const f: string[] = [];
  if (s.ops) f.push("ops");
  f.push(...s.schedFlags);
  if (s.pe) f.push(`pe ${s.pe}`);
  return f.join(", ");
}

const NONE_OWNED: readonly ServiceOwnership[] = [];
/** Up to this many realservers (of the services shown), every table renders at once. */
const EAGER_REALSERVERS = 300;

/** The virtual services of a director, each with its realservers (collapsible). */
export const ServiceTable = memo(function ServiceTable({
  services,
  collapsed,
  onToggle,
  drainOf,
  owned = NONE_OWNED,
  doctorFor,
  onAction,
}: {
  services: ServiceState[];
  /** The owner view's services: who owns each member, its checker state. */
  owned?: readonly ServiceOwnership[];
  collapsed: ReadonlySet<string>;
  onToggle: (service: string) => void;
  drainOf: DrainOf;
  /** The doctor's findings per realserver (doctor-marker.ts: one query for the page). */
  doctorFor: DoctorFor;
  onAction: (a: Action) => void;
}) {
  const [filter, setFilter] = useState("");
  // Typing stays instant at 200 services: the list follows the box when React has time.
  const query = useDeferredValue(filter.trim().toLowerCase());
  const shown = query ? services.filter((s) => serviceMatches(s, query)) : services;
  const eager = useMemo(
    () => shown.reduce((a, s) => a + s.realservers.length, 0) <= EAGER_REALSERVERS,
    [shown],
  );
  // By name, not a search per service: 200 services made 40,000 key comparisons a push.
  const ownershipOf = useMemo(
    () => new Map(owned.map((o) => [formatServiceKey(o.key), o])),
    [owned],
  );
  return (
    <div className="rounded-md border bg-card">
      <div className="flex items-center gap-2 border-b px-3 py-1.5">
        <label className="flex items-center gap-2 text-xs text-muted-foreground">
          Filter services
          <input
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            placeholder="VIP, port, scheduler or realserver"
            className="h-7 w-72 rounded border bg-background px-2 font-mono text-xs text-foreground"
          />
        </label>
        {query && (
          <span className="text-xs text-muted-foreground" aria-live="polite">
            {shown.length} of {services.length} services
          </span>
        )}
      </div>
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
          {services.length > 0 && shown.length === 0 && (
            <TableRow>
              <TableCell colSpan={12} className="text-muted-foreground">
                No virtual service matches “{filter.trim()}”.
              </TableCell>
            </TableRow>
          )}
          {services.length === 0 && (
            <TableRow>
              <TableCell colSpan={12} className="text-muted-foreground">
                No virtual services on this director.
              </TableCell>
            </TableRow>
          )}
          {shown.map((s) => {
            const name = formatServiceKey(s.key);
            return (
              <ServiceBlock
                key={name}
                s={s}
                open={!collapsed.has(name)}
                eager={eager}
                ownership={ownershipOf.get(name)}
                drainOf={drainOf}
                doctorFor={doctorFor}
                onToggle={onToggle}
                onAction={onAction}
              />
            );
          })}
        </TableBody>
      </Table>
    </div>
  );
});

/**
 * One service's row and, open, its realservers. Memoised: the live view keeps the objects of
 * services whose numbers did not move (use-director.ts), so with 200 services a poll
 * re-renders the few with traffic, and a collapse re-renders one.
 */
const ServiceBlock = memo(function ServiceBlock({
  s,
  open,
  eager,
  ownership,
  drainOf,
  doctorFor,
  onToggle,
  onAction,
}: {
  s: ServiceState;
  open: boolean;
  /** Render the realservers at once, not when the service comes near the screen. */
  eager: boolean;
  ownership: ServiceOwnership | undefined;
  drainOf: DrainOf;
  doctorFor: DoctorFor;
  onToggle: (service: string) => void;
  onAction: (a: Action) => void;
}) {
  const name = formatServiceKey(s.key);
  const head = useRef<HTMLTableRowElement>(null);
  const near = useInView(head);
  // Rendered once near the screen (within a screen's height), then kept: a director with
  // 1,000 realservers shows its first screen without building 1,000 rows first.
  const [seen, setSeen] = useState(eager);
  if ((near || eager) && !seen) setSeen(true);
  return (
    <>
      <TableRow ref={head} data-service={name} className="bg-muted/20 font-medium">
        <TableCell>
          <Button
            variant="ghost"
            size="xs"
            aria-expanded={open}
            aria-label={`${open ? "Collapse" : "Expand"} ${name}`}
            onClick={() => onToggle(name)}
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
        <TableCell className="truncate whitespace-nowrap text-muted-foreground" title={flagsOf(s)}>
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
        <TableCell className="num" title={exactBytes(s.counters?.inBytes)}>
          {formatBytes(s.counters?.inBytes)}
        </TableCell>
        <TableCell className="num" title={exactBytes(s.counters?.outBytes)}>
          {formatBytes(s.counters?.outBytes)}
        </TableCell>
        <TableCell className="num">{formatRate(s.rates?.cps, "")}</TableCell>
        <TableCell className="num">{formatByteRate(s.rates?.inBps)}</TableCell>
        <TableCell className="num">{formatByteRate(s.rates?.outBps)}</TableCell>
        <TableCell className="text-right whitespace-nowrap">
          <RowActions
            actions={[
              {
                label: "Add realserver",
                ariaLabel: `Add realserver to ${name}`,
                onClick: () => onAction({ kind: "realserverForm", service: s.key }),
              },
              {
                label: "Edit",
                ariaLabel: `Edit ${name}`,
                onClick: () => onAction({ kind: "serviceForm", existing: s }),
              },
              {
                label: "Delete",
                ariaLabel: `Delete ${name}`,
                danger: true,
                onClick: () =>
                  onAction(
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
            {/* Off screen: not styled, laid out or painted (a director with 1,000 realservers). */}
            {seen ? (
              <div className="[contain-intrinsic-size:auto_8rem] [content-visibility:auto]">
                <RealserverTable
                  service={s}
                  drainOf={drainOf}
                  doctorFor={doctorFor}
                  ownership={ownership}
                  onAction={onAction}
                />
              </div>
            ) : (
              // As tall as the table will be, so the page does not jump when it renders.
              <div
                className="text-xs text-muted-foreground"
                style={{ height: `${1.75 * (s.realservers.length + 1)}rem` }}
              >
                {s.realservers.length} realservers
              </div>
            )}
          </TableCell>
        </TableRow>
      )}
    </>
  );
});
