import { memo, useDeferredValue, useMemo, useRef, useState, type ReactNode } from "react";
import { formatServiceKey, type ServiceState } from "@/server/ipvs/model";
import type { ServiceOwnership } from "@/server/ipvs/keepalived";
import {
  exactBytes,
  formatByteRate,
  formatBytes,
  formatCount,
  formatRate,
} from "@/components/format";
import { cn } from "@/components/cn";
import { Button } from "@/components/ui/button";
import { type Action, type DrainOf, destructiveChange } from "./actions";
import { RowActions } from "./row-actions";
import { RealserverTable } from "./realserver-table";
import { serviceMatches } from "./service-filter";
import { useInView } from "@/components/ui/use-in-view";
import type { DoctorFor } from "./doctor-marker";

/** Heads after the expand column: [label, classes]. */
const SERVICE_COLUMNS: readonly (readonly [string, string])[] = [
  ["Virtual service", ""],
  ["Sched", ""],
  ["Persistence", ""],
  ["Flags", ""],
  ["Conns", "text-right"],
  ["InBytes", "text-right"],
  ["OutBytes", "text-right"],
  ["CPS", "text-right"],
  ["In/s", "text-right"],
  ["Out/s", "text-right"],
  ["Actions", "text-right"],
];

/*
 * The list is an ARIA table of grid rows, one block per service, not one <table>: a table
 * lays out every row again when one cell's number changes (8-24 ms a push at 200 services
 * and 1,000 realservers), while a block here is laid out on its own (on a big director
 * content-visibility contains it) and not at all off screen. The columns are fixed, so the
 * blocks still line up.
 */
const GRID =
  "grid grid-cols-[1.75rem_13rem_3.5rem_9rem_11rem_6rem_7rem_7rem_4rem_5rem_5rem_minmax(14rem,1fr)]";
/** A cell: one line, cut with an ellipsis rather than wrapped (rows keep one height). */
const CELL = "h-7 min-w-0 truncate px-2 leading-7 whitespace-nowrap";
/** A whole-width message row (no services, none matching). */
function MessageRow({ children }: { children: ReactNode }) {
  return (
    <div role="row" className="border-b">
      <div
        role="cell"
        aria-colspan={SERVICE_COLUMNS.length + 1}
        className={cn(CELL, "text-muted-foreground")}
      >
        {children}
      </div>
    </div>
  );
}

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
/** Rows (heads and realservers) that fill about a screen, rendered at once on a big director. */
const FIRST_SCREEN_ROWS = 40;

/** The virtual services of a director, each with its realservers (collapsible). */
export const ServiceTable = memo(function ServiceTable({
  services,
  collapsed,
  onToggle,
  drainOf: drainOfNow,
  owned: ownedNow = NONE_OWNED,
  doctorFor: doctorForNow,
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
  // These change every row's props at once (a drain, a doctor report, an owner read) and
  // can arrive as urgent updates (React Query's store, a whole push): deferred, React
  // renders the rows in slices that yield to input and frames instead of one long task.
  const drainOf = useDeferredValue(drainOfNow);
  const doctorFor = useDeferredValue(doctorForNow);
  const owned = useDeferredValue(ownedNow);
  const [filter, setFilter] = useState("");
  // Typing stays instant at 200 services: the list follows the box when React has time.
  const query = useDeferredValue(filter.trim().toLowerCase());
  const shown = query ? services.filter((s) => serviceMatches(s, query)) : services;
  // How many of the first services render their realservers at once: all when they are
  // few, else those of about the first screen (the rest when they come near it). Waiting
  // for the observer to report the first screen cost the page a second render and layout
  // before it showed any realserver.
  // A big director's blocks are also contained (content-visibility): skipped off screen. A
  // small one's are not: they cost little to lay out, and a full-page screenshot or a print
  // shows all of them (skipped blocks are blank there).
  const { eagerCount, big } = useMemo(() => {
    if (shown.reduce((a, s) => a + s.realservers.length, 0) <= EAGER_REALSERVERS) {
      return { eagerCount: shown.length, big: false };
    }
    let rows = 0;
    let n = 0;
    while (n < shown.length && rows < FIRST_SCREEN_ROWS)
      rows += 2 + (shown[n++]?.realservers.length ?? 0);
    return { eagerCount: n, big: true };
  }, [shown]);
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
      <div className="overflow-x-auto">
        <div role="table" aria-label="Virtual services" className="w-full min-w-[86.25rem] text-xs">
          <div role="rowgroup">
            <div role="row" className={cn(GRID, "border-b bg-muted/60 text-muted-foreground")}>
              <div role="columnheader" className={CELL}>
                <span className="sr-only">Expand</span>
              </div>
              {SERVICE_COLUMNS.map(([label, className]) => (
                <div role="columnheader" key={label} className={cn(CELL, "font-medium", className)}>
                  {label}
                </div>
              ))}
            </div>
          </div>
          {services.length > 0 && shown.length === 0 && (
            <MessageRow>No virtual service matches “{filter.trim()}”.</MessageRow>
          )}
          {services.length === 0 && <MessageRow>No virtual services on this director.</MessageRow>}
          {shown.map((s, i) => {
            const name = formatServiceKey(s.key);
            return (
              <ServiceBlock
                key={name}
                s={s}
                open={!collapsed.has(name)}
                eager={i < eagerCount}
                contained={big}
                ownership={ownershipOf.get(name)}
                drainOf={drainOf}
                doctorFor={doctorFor}
                onToggle={onToggle}
                onAction={onAction}
              />
            );
          })}
        </div>
      </div>
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
  contained,
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
  /** Laid out on its own and skipped off screen (content-visibility): a big director. */
  contained: boolean;
  ownership: ServiceOwnership | undefined;
  drainOf: DrainOf;
  doctorFor: DoctorFor;
  onToggle: (service: string) => void;
  onAction: (a: Action) => void;
}) {
  const name = formatServiceKey(s.key);
  const block = useRef<HTMLDivElement>(null);
  const near = useInView(block);
  // Rendered once near the screen (within a screen's height), then kept: a director with
  // 1,000 realservers shows its first screen without building 1,000 rows first.
  const [seen, setSeen] = useState(eager);
  if ((near || eager) && !seen) setSeen(true);
  // Its height before it was ever laid out (rem: a 1.75 rem row per realserver and head);
  // once laid out, the browser remembers the real one ("auto").
  const rows = open ? s.realservers.length + 2 : 1;
  return (
    <div
      role="rowgroup"
      // Observed itself, not its head row: content-visibility skips what is inside a block
      // off screen, and the observer does not see skipped elements come into view.
      ref={block}
      className={cn("border-b last:border-0", contained && "[content-visibility:auto]")}
      style={
        contained
          ? { containIntrinsicSize: `auto ${1.75 * rows + (open ? 0.5 : 0)}rem` }
          : undefined
      }
    >
      <div
        role="row"
        data-service={name}
        className={cn(GRID, "bg-muted/20 font-medium hover:bg-muted/40")}
      >
        <div role="cell" className={cn(CELL, "flex items-center px-1")}>
          <Button
            variant="ghost"
            size="xs"
            aria-expanded={open}
            aria-label={`${open ? "Collapse" : "Expand"} ${name}`}
            onClick={() => onToggle(name)}
          >
            {open ? "▾" : "▸"}
          </Button>
        </div>
        <div role="cell" className={cn(CELL, "font-mono")} title={name}>
          {name}
        </div>
        <div role="cell" className={CELL}>
          {s.scheduler}
        </div>
        <div role="cell" className={CELL}>
          {s.persistence
            ? `${s.persistence.timeout} s${s.persistence.netmask !== null ? ` /${String(s.persistence.netmask)}` : ""}`
            : "—"}
        </div>
        <div role="cell" className={cn(CELL, "text-muted-foreground")} title={flagsOf(s)}>
          {flagsOf(s) || "—"}
        </div>
        <div
          role="cell"
          className={cn(CELL, "num")}
          title={
            s.counters
              ? `in ${formatCount(s.counters.inPackets)} pkts, out ${formatCount(s.counters.outPackets)} pkts`
              : undefined
          }
        >
          {formatCount(s.counters?.conns)}
        </div>
        <div role="cell" className={cn(CELL, "num")} title={exactBytes(s.counters?.inBytes)}>
          {formatBytes(s.counters?.inBytes)}
        </div>
        <div role="cell" className={cn(CELL, "num")} title={exactBytes(s.counters?.outBytes)}>
          {formatBytes(s.counters?.outBytes)}
        </div>
        <div role="cell" className={cn(CELL, "num")}>
          {formatRate(s.rates?.cps, "")}
        </div>
        <div role="cell" className={cn(CELL, "num")}>
          {formatByteRate(s.rates?.inBps)}
        </div>
        <div role="cell" className={cn(CELL, "num")}>
          {formatByteRate(s.rates?.outBps)}
        </div>
        <div role="cell" className={cn(CELL, "flex items-center justify-end gap-1")}>
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
        </div>
      </div>
      {open && (
        <div role="row" className="grid grid-cols-[1.75rem_minmax(0,1fr)]">
          <div role="cell" />
          <div role="cell" aria-colspan={SERVICE_COLUMNS.length} className="py-1 pl-2">
            {seen ? (
              <RealserverTable
                service={s}
                drainOf={drainOf}
                doctorFor={doctorFor}
                ownership={ownership}
                onAction={onAction}
              />
            ) : (
              // As tall as the table will be, so the page does not jump when it renders.
              <div
                className="text-xs text-muted-foreground"
                style={{ height: `${1.75 * (s.realservers.length + 1)}rem` }}
              >
                {s.realservers.length} realservers
              </div>
            )}
          </div>
        </div>
      )}
    </div>
  );
});
