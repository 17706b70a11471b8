"use client";
import type { FleetOwner } from "@/server/live/fleet-summary";
import { Badge } from "@/components/ui/badge";

/** A director and the owner of its rules (a fleet summary row's, or a snapshot's whole view). */
export interface OwnedDirector {
  directorId: string;
  owner: FleetOwner | null | undefined;
}

/** The director of a cluster keepalived made MASTER (it holds the VIPs: it carries the traffic). */
export function activeDirectors(directors: readonly OwnedDirector[]): string[] {
  return directors.filter((d) => d.owner?.role === "MASTER").map((d) => d.directorId);
}

/** Cluster header badge: which director carries the traffic, or why none or two do. */
export function ActiveDirectorBadge({ directors }: { directors: readonly OwnedDirector[] }) {
  const withVrrp = directors.filter((d) => (d.owner?.vrrp.length ?? 0) > 0);
  if (withVrrp.length === 0) return null;
  const active = activeDirectors(directors);
  if (active.length === 1)
    return (
      <Badge variant="ok" data-testid="cluster-active-director" data-director={active[0]}>
        active: {active[0]}
      </Badge>
    );
  return (
    <Badge
      variant="danger"
      data-testid="cluster-active-director"
      data-director=""
      title="keepalived's VRRP state on each director, from its SIGUSR1 dump"
    >
      {active.length === 0
        ? "no MASTER director"
        : `${active.length} MASTER directors (split brain)`}
    </Badge>
  );
}

const ROLE_VARIANT = { MASTER: "ok", BACKUP: "outline", FAULT: "danger", MIXED: "warn" } as const;

/** Per director: its VRRP role, the owner of its rules and a drift badge. */
export function DirectorOwnerBadges({ owner }: { owner: FleetOwner | null | undefined }) {
  if (!owner) return <span className="text-muted-foreground">—</span>;
  const errors = owner.findings.filter((f) => f.severity === "error");
  return (
    <div className="flex flex-wrap items-center gap-1">
      {owner.role && (
        <Badge
          variant={ROLE_VARIANT[owner.role]}
          data-testid="director-role"
          data-role={owner.role}
          title={owner.vrrp.map((v) => `${v.name}: ${v.state ?? "?"}`).join(", ")}
        >
          {owner.role}
        </Badge>
      )}
      <Badge
        variant={owner.summary.kind === "runtime" ? "warn" : "default"}
        data-testid="director-owner"
        data-owner={owner.summary.kind}
        title={owner.summary.label}
      >
        {owner.summary.kind === "keepalived"
          ? `keepalived v${owner.keepalived?.version ?? "?"}`
          : owner.summary.kind === "rules-file"
            ? "rules file"
            : "runtime only"}
      </Badge>
      <Badge
        variant={owner.driftCount > 0 ? "warn" : "ok"}
        data-testid="director-drift"
        data-drift={owner.driftCount}
        title="rules where the kernel differs from their owner in a way the owner does not explain"
      >
        {owner.driftCount > 0 ? `drift ${owner.driftCount}` : "no drift"}
      </Badge>
      {errors.length > 0 && (
        <Badge variant="danger" title={errors.map((f) => f.text).join("\n")}>
          config not understood
        </Badge>
      )}
    </div>
  );
}
