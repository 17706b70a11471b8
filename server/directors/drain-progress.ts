/**
 * How far a drain is: the drained realserver's connections on every director of the
 * cluster, counted from one reading per director. Pure.
 */
import "server-only";
import { sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import type { DrainSelector } from "@/server/ipvs/change";
import type { DirectorReachability, DirectorSnapshot } from "@/server/live/types";
import type { Drain } from "@/server/db/drains";

export function selectorOf(realserver: { address: string; port?: number | null }): DrainSelector {
  return realserver.port === undefined || realserver.port === null
    ? { address: realserver.address }
    : { address: realserver.address, port: realserver.port };
}

export interface DrainProgress {
  drainId: number;
  /** When the newest snapshot used was taken (ms since epoch). */
  at: number;
  perDirector: Array<{
    directorId: string;
    /** "live" = read just now; otherwise the services are its last known ones, or none. */
    reachability: DirectorReachability;
    /** When its snapshot was taken, null when there is none. */
    takenAt: number | null;
    services: Array<{
      service: ServiceKey;
      port: number;
      weight: number;
      activeConns: number;
      inactiveConns: number;
      persistentConns: number;
    }>;
  }>;
  /** Counted from every director's newest snapshot, current or not (never too optimistic). */
  totals: { active: number; inactive: number; persistent: number };
  /** Directors whose current word is missing (unreachable, stale, not polled yet). */
  waitingFor: string[];
  /** No connections left, on the word of every director as it is now. */
  drained: boolean;
  /**
   * Every member this drain set to 0 that still exists serves again (weight above 0), on the
   * word of every director as it is now: someone gave the weights back without the console.
   */
  restored: boolean;
}

/** What one director of the drain's cluster says: its newest snapshot and how current it is. */
export interface DirectorReading {
  directorId: string;
  snapshot: DirectorSnapshot | null;
  reachability: DirectorReachability;
}

/** A snapshot read just now. */
export function currentReading(p: { snapshot: DirectorSnapshot }): DirectorReading {
  return { directorId: p.snapshot.directorId, snapshot: p.snapshot, reachability: "live" };
}

/**
 * Where the drained realserver still has connections, one reading per director of the
 * cluster. "drained" needs every director's current word: an unreachable or stale director's
 * last snapshot may predate the connections it has now, so it keeps the drain waiting. Pure.
 */
export function drainProgress(drain: Drain, readings: readonly DirectorReading[]): DrainProgress {
  const selector = selectorOf(drain.realserver);
  const totals = { active: 0, inactive: 0, persistent: 0 };
  const perDirector = readings.map(({ directorId, snapshot, reachability }) => ({
    directorId,
    reachability,
    takenAt: snapshot?.takenAt ?? null,
    services: (snapshot?.services ?? []).flatMap((svc) =>
      svc.realservers
        .filter(
          (rs) =>
            rs.address === selector.address &&
            (selector.port === undefined || rs.port === selector.port),
        )
        .map((rs) => {
          const persistentConns = rs.persistentConns ?? 0;
          totals.active += rs.activeConns;
          totals.inactive += rs.inactiveConns;
          totals.persistent += persistentConns;
          return {
            service: svc.key,
            port: rs.port,
            weight: rs.weight,
            activeConns: rs.activeConns,
            inactiveConns: rs.inactiveConns,
            persistentConns,
          };
        }),
    ),
  }));
  const waitingFor = readings.filter((r) => r.reachability !== "live").map((r) => r.directorId);
  return {
    drainId: drain.id,
    at: readings.reduce((max, r) => Math.max(max, r.snapshot?.takenAt ?? 0), 0),
    perDirector,
    totals,
    waitingFor,
    drained:
      totals.active === 0 &&
      totals.inactive === 0 &&
      totals.persistent === 0 &&
      waitingFor.length === 0,
    restored: waitingFor.length === 0 && weightsRestored(drain, perDirector),
  };
}

function weightsRestored(
  drain: Drain,
  perDirector: ReadonlyArray<Pick<DrainProgress["perDirector"][number], "directorId" | "services">>,
): boolean {
  // Members that had weight 0 before the drain were not drained by it: they say nothing.
  const weights = drain.original.flatMap((o) => {
    if (o.weight === 0) return [];
    const member = perDirector
      .find((d) => d.directorId === o.directorId)
      ?.services.find((s) => s.port === o.port && sameServiceKey(s.service, o.service));
    return member ? [member.weight] : [];
  });
  return weights.length > 0 && weights.every((w) => w > 0);
}
