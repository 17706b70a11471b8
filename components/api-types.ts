/**
 * The shapes of docs/api.md as the pages use them. Type-only imports from server/: nothing
 * of the server reaches the browser bundle.
 */
import type { DirectorStatus } from "@/server/live/types";
import type { ServiceKey } from "@/server/ipvs/model";
import type { PreflightWarning } from "@/server/ipvs/preflight";
import type { ConsoleErrorCode } from "@/server/errors";

export type { DirectorStatus, PreflightWarning };

export interface FleetCluster {
  id: string;
  name: string;
  directors: DirectorStatus[];
  rulesDiffer: boolean;
}

export interface FleetStatus {
  at: number;
  clusters: FleetCluster[];
}

export interface ConsoleErrorData {
  code: ConsoleErrorCode;
  message: string;
  details: Record<string, unknown>;
  /** Sent to admins only: e.g. which key file failed to log in. */
  adminDetail?: string;
}

export type PreviewDirector =
  | {
      directorId: string;
      ok: true;
      steps: Array<{ argv: string[]; command: string; description: string }>;
    }
  | { directorId: string; ok: false; reason: string; message: string };

export interface PreviewResult {
  versions: Record<string, string>;
  perDirector: PreviewDirector[];
  warnings: PreflightWarning[];
}

export interface ApplyDirectorResult {
  directorId: string;
  ok: boolean;
  steps: Array<{ argv: string[]; exitCode: number | null; stderr: string }>;
  error: ConsoleErrorData | null;
  verified: boolean;
}

export interface DrainProgressService {
  service: ServiceKey;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number | null;
}

export interface DrainProgress {
  drainId: number;
  at: number;
  perDirector: Array<{
    directorId: string;
    /** "live": read just now; otherwise its services are the last known ones (or none). */
    reachability: DirectorStatus["reachability"];
    takenAt: number | null;
    services: DrainProgressService[];
  }>;
  totals: { active: number; inactive: number; persistent: number };
  /** Directors whose current word is missing: the drain cannot count as drained. */
  waitingFor: string[];
  drained: boolean;
}
