"use client";
import { memo, useState } from "react";
import type { DirectorStatus } from "@/components/trpc";
import { DirectorOwnerBadges } from "@/components/fleet/owner-badges";
import { formatClock } from "@/components/format";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";

/** Rows (services + realservers) up to which the per-rule table shows without asking. */
const TABLE_ROWS_SHOWN = 60;

type Owner = NonNullable<NonNullable<DirectorStatus["snapshot"]>["owner"]>;
type Service = Owner["services"][number];
type OwnerOf = Service["owner"];

function ownerText(owner: OwnerOf): string {
  if (owner.kind === "keepalived") return `keepalived ${owner.file}:${owner.line}`;
  if (owner.kind === "rules-file") return `rules file ${owner.path}`;
  return "runtime only";
}

function DriftList({ drift }: { drift: Service["drift"] }) {
  if (drift.length === 0) return <span className="text-muted-foreground">—</span>;
  return (
    <ul className="flex flex-col">
      {drift.map((d, i) => (
        <li
          key={i}
          className={d.expected ? "text-muted-foreground" : "text-warn"}
          data-drift={d.kind}
        >
          {d.message}
        </li>
      ))}
    </ul>
  );
}

/**
 * Who owns this director's rules and how the kernel drifted from it: keepalived (its VRRP
 * state, sync daemon, what in its config the console could not understand), the rules file,
 * and owner + drift per service and realserver.
 */
export const OwnerPanel = memo(function OwnerPanel({ owner }: { owner: Owner | null | undefined }) {
  // The owner object is the same push after push while nothing in it changes (deltas,
  // director-push.ts): a 1,200-row table is not rendered again for every poll.
  const rules = owner ? owner.services.reduce((a, s) => a + 1 + s.realservers.length, 0) : 0;
  const [open, setOpen] = useState<boolean | null>(null);
  if (!owner) return null;
  const k = owner.keepalived;
  // A big director's table is long (1,200 rows, 30,000 px before the services): shown on
  // asking. What drifts is counted on the button and in the badges above.
  const drifting = owner.services.reduce(
    (a, s) =>
      a +
      (s.drift.some((d) => !d.expected) ? 1 : 0) +
      s.realservers.filter((r) => r.drift.some((d) => !d.expected)).length,
    0,
  );
  const shown = open ?? rules <= TABLE_ROWS_SHOWN;
  return (
    <section
      aria-label="Owner and drift"
      className="flex flex-col gap-2 rounded-md border bg-card p-3 text-sm"
      data-testid="owner-panel"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="font-semibold">Owner</h2>
        <DirectorOwnerBadges owner={owner} />
        <span className="text-xs text-muted-foreground" data-testid="owner-summary">
          {owner.summary.label}
          {k && !k.running && k.installed ? " · keepalived installed, not running" : ""} · read{" "}
          {formatClock(owner.readAt)} ({owner.costMs} ms)
        </span>
      </div>
      {owner.vrrp.length > 0 && (
        <div className="flex flex-wrap gap-2 text-xs" data-testid="vrrp-instances">
          {owner.vrrp.map((v) => (
            <span key={v.name} data-vrrp={v.name} data-state={v.state ?? ""}>
              VRRP {v.name}: <strong>{v.state ?? "?"}</strong>
              {v.virtualIps.length > 0 ? ` (${v.virtualIps.join(", ")})` : ""}
            </span>
          ))}
        </div>
      )}
      <div className="flex flex-wrap gap-3 text-xs text-muted-foreground">
        <span data-testid="sync-daemon">
          sync daemon:{" "}
          {owner.syncDaemon.length === 0 ? "none" : owner.syncDaemon.map((d) => d.text).join("; ")}
        </span>
        {owner.rulesFile && (
          <span data-testid="rules-file">
            rules file {owner.rulesFile.path}:{" "}
            {owner.rulesFile.bootLoads ? "loaded at boot" : "not loaded at boot"}
            {owner.rulesFile.differs ? ", differs from the kernel" : ""}
            {owner.rulesFile.error ? ` (${owner.rulesFile.error})` : ""}
          </span>
        )}
      </div>
      {owner.findings.length > 0 && (
        <ul className="flex flex-col text-xs" data-testid="owner-findings">
          {owner.findings.map((f, i) => (
            <li key={i} className={f.severity === "error" ? "text-danger" : "text-warn"}>
              <Badge variant={f.severity === "error" ? "danger" : "warn"}>{f.severity}</Badge>{" "}
              <span className="font-mono">
                {f.file}:{f.line}
              </span>{" "}
              {f.message}
            </li>
          ))}
        </ul>
      )}
      {rules > TABLE_ROWS_SHOWN && (
        <div>
          <Button size="xs" variant="outline" aria-expanded={shown} onClick={() => setOpen(!shown)}>
            {shown ? "Hide" : "Show"} owner and drift of {rules} rules
            {drifting > 0 ? ` (${drifting} drift unexpectedly)` : ""}
          </Button>
        </div>
      )}
      {shown && (
        <Table aria-label="Owner and drift per rule">
          <TableHeader>
            <TableRow>
              <TableHead className="w-56">Virtual service / realserver</TableHead>
              <TableHead className="w-72">Owner</TableHead>
              <TableHead className="w-32">Weight (owner / kernel)</TableHead>
              <TableHead>Drift</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {owner.services.map((s) => {
              const name = formatServiceKey(s.key);
              return [
                <TableRow key={name} data-owner-service={name} className="bg-muted/20">
                  <TableCell className="font-mono">{name}</TableCell>
                  <TableCell className="font-mono text-xs">{ownerText(s.owner)}</TableCell>
                  <TableCell />
                  <TableCell>
                    <DriftList drift={s.drift} />
                  </TableCell>
                </TableRow>,
                ...s.realservers.map((r) => {
                  const rs = formatEndpoint(r);
                  return (
                    <TableRow key={`${name} ${rs}`} data-owner-realserver={`${name} ${rs}`}>
                      <TableCell className="pl-6 font-mono">{rs}</TableCell>
                      <TableCell className="font-mono text-xs">
                        {ownerText(r.owner)}
                        {r.checker ? ` · checker ${r.checker}` : ""}
                      </TableCell>
                      <TableCell className="num">
                        {r.configuredWeight ?? "—"} / {r.kernelWeight ?? "—"}
                      </TableCell>
                      <TableCell>
                        <DriftList drift={r.drift} />
                      </TableCell>
                    </TableRow>
                  );
                }),
              ];
            })}
          </TableBody>
        </Table>
      )}
    </section>
  );
});
