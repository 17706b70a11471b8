/**
 * The fleet page's push: per director only what its row shows (totals, not services), and
 * after the first push only the directors that changed. With 500 directors polled every 2 s
 * the whole fleet with every snapshot (what live.fleet sends, for the realserver page)
 * would be serialised and parsed about 20 times a second; this is a few rows each time.
 *
 * Pure: the registry (registry.ts) feeds it statuses.
 */
import { totalsOf, type DirectorTotals } from "@/server/ipvs/totals";
import type { DirectorOwner, OwnerFinding } from "./owner-view";
import type { DirectorStatus } from "./types";

/**
 * The owner as a fleet row shows it (its badges): no per-service ownership, no file lists,
 * only the findings that are errors. The whole view grows with the services (at 500
 * directors a push carried about 1 MB of it, twice a second). A DirectorOwner is one too,
 * so the director page's badges are the same component.
 */
export interface FleetOwner {
  summary: DirectorOwner["summary"];
  keepalived: { version: string | null } | null;
  vrrp: Array<{ name: string; state: string | null }>;
  role: DirectorOwner["role"];
  /** The errors only (what the "config not understood" badge lists). */
  findings: OwnerFinding[];
  driftCount: number;
}

function fleetOwner(owner: DirectorOwner): FleetOwner {
  return {
    summary: owner.summary,
    keepalived: owner.keepalived && { version: owner.keepalived.version },
    vrrp: owner.vrrp.map((v) => ({ name: v.name, state: v.state })),
    role: owner.role,
    findings: owner.findings.filter((f) => f.severity === "error"),
    driftCount: owner.driftCount,
  };
}

/** One director as its fleet row shows it. */
export interface FleetDirector extends Omit<DirectorStatus, "snapshot"> {
  /** The newest good snapshot, reduced to the row; null before the first good poll. */
  summary: {
    takenAt: number;
    version: string;
    /** ipvsadm's own version, e.g. "1.31". */
    ipvsadm: string | null;
    connectionCount: number;
    totals: DirectorTotals;
    owner: FleetOwner | null;
  } | null;
}

/**
 * `full`: every cluster and director (the first push of a subscription). Otherwise only
 * the clusters with a changed director, each holding only its changed directors.
 */
export interface FleetSummary {
  at: number;
  full: boolean;
  clusters: Array<{
    id: string;
    name: string;
    directors: FleetDirector[];
    rulesDiffer: boolean;
  }>;
}

/** Kept per status object: an unchanged director is not reduced again. */
const reduced = new WeakMap<DirectorStatus, FleetDirector>();

export function fleetDirector(status: DirectorStatus): FleetDirector {
  const known = reduced.get(status);
  if (known) return known;
  const { snapshot, ...rest } = status;
  const row: FleetDirector = {
    ...rest,
    summary: snapshot
      ? {
          takenAt: snapshot.takenAt,
          version: snapshot.version,
          ipvsadm: snapshot.ipvsadm?.ipvsadm ?? null,
          connectionCount: snapshot.connectionCount,
          totals: totalsOf(snapshot),
          owner: snapshot.owner ? fleetOwner(snapshot.owner) : null,
        }
      : null,
  };
  reduced.set(status, row);
  return row;
}
