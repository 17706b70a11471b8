/**
 * What the live layer pushes to the UI. Shared by the poller (server) and the pages
 * (client), so it holds only plain data: no classes, bigint for 64-bit counters.
 */
import type { IpvsSysctls, IpvsTimeouts, IpvsadmVersion, ServiceState } from "@/server/ipvs/model";
import type { ConsoleErrorJson } from "@/server/errors";
import type { DirectorOwner } from "./owner-view";

/** One poll of one director. */
export interface DirectorSnapshot {
  directorId: string;
  clusterId: string;
  /**
   * Hash of the rules (services, realservers, weights, every attribute an edit can change;
   * not counters). Changes carry the version the operator saw: a different version on the
   * director means someone else changed it (optimistic concurrency).
   */
  version: string;
  /** Milliseconds since the epoch when the poll's output was read. */
  takenAt: number;
  services: ServiceState[];
  /** The drain-relevant sysctls and the rest of net.ipv4.vs. */
  sysctls: IpvsSysctls;
  ipvsadm: IpvsadmVersion | null;
  timeouts: IpvsTimeouts | null;
  /** Size of the connection table (entries, templates included). */
  connectionCount: number;
  /** Who owns the rules and how the kernel drifted from it (owner-view.ts); null before the first owner read. */
  owner?: DirectorOwner | null;
}

/**
 * "stale": the snapshot is from before the poller last (re)started (nobody watched the
 * director for a while); it is shown with its age (lastSuccessAt) until a fresh poll lands.
 */
export type DirectorReachability = "live" | "stale" | "connecting" | "unreachable";

/** The state of one watched director as pushed over the subscription. */
export interface DirectorStatus {
  directorId: string;
  clusterId: string;
  reachability: DirectorReachability;
  /** The newest good snapshot, kept while unreachable so the UI can show "stale since". */
  snapshot: DirectorSnapshot | null;
  /** Why the last poll failed, when it did. */
  error: ConsoleErrorJson | null;
  /** When the last poll succeeded (ms since epoch), or null. */
  lastSuccessAt: number | null;
  /** When the next retry is due while unreachable (ms since epoch). */
  nextRetryAt: number | null;
}

/** Every cluster's directors, as `live.fleet` pushes it. */
export interface FleetStatus {
  /** When this view was assembled (ms since epoch). */
  at: number;
  clusters: Array<{
    id: string;
    name: string;
    directors: DirectorStatus[];
    /** The directors that answered hold different rules (different versions). */
    rulesDiffer: boolean;
  }>;
}
