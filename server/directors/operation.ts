/**
 * What an operation on a cluster is (one change, or a drain's sequence), what its preview and
 * its apply return, and the operator's words for it.
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import type { ConsoleErrorJson, RefusalReason } from "@/server/errors";
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import type { Change } from "@/server/ipvs/change";
import type { PlanStep } from "@/server/ipvs/planner";
import type { DirectorSnapshot } from "@/server/live/types";
import type { ServiceWithRealservers } from "@/server/ipvs/rules";
import type { PreflightWarning } from "@/server/ipvs/preflight";

export interface PreviewStep {
  argv: string[];
  /** The command line as the director's shell receives it (for operators to read and copy). */
  command: string;
  description: string;
}

export type DirectorPreview =
  | { directorId: string; ok: true; steps: PreviewStep[] }
  | {
      directorId: string;
      ok: false;
      reason: RefusalReason;
      message: string;
      fields?: Record<string, string>;
    };

export interface ChangePreview {
  /** The versions the plan was made against: send them back as expectedVersions. */
  versions: Record<string, string>;
  perDirector: DirectorPreview[];
  warnings: PreflightWarning[];
}

export interface StepResult {
  argv: string[];
  description: string;
  /** null when the command never ran to an exit (transport failure). */
  exitCode: number | null;
  stderr: string;
}

export interface DirectorResult {
  directorId: string;
  ok: boolean;
  steps: StepResult[];
  error: ConsoleErrorJson | null;
  verified: boolean;
  /** The version read back after the change (null if the read-back failed). */
  version: string | null;
}

export interface ApplyResult {
  auditId: number;
  ok: boolean;
  result: "ok" | "failed" | "partial";
  /** PARTIAL, COMMAND_FAILED, VERIFY_FAILED, ... for the change as a whole; null when ok. */
  error: ConsoleErrorJson | null;
  results: DirectorResult[];
}

/** A change to plan on every director of a cluster (one change, or a drain's sequence). */
export interface ClusterOperation {
  clusterId: string;
  /** Audit action: "change", "drain.start", ... */
  action: string;
  summary: string;
  /** Recorded in the audit log as asked. */
  change: unknown;
  /** The changes for one director, in order; [] = nothing to do there. */
  changesFor(directorId: string, snapshot: DirectorSnapshot): Change[];
  /** Refusals that mean "nothing to do here" for this operation, beyond would-change-nothing. */
  tolerate?: readonly RefusalReason[];
  warningsFor?(directorId: string, snapshot: DirectorSnapshot): PreflightWarning[];
}

export interface PlannedDirector {
  director: DirectorConfig;
  snapshot: DirectorSnapshot;
  steps: PlanStep[];
  intended: ServiceWithRealservers[];
  intendedSysctls: Record<string, number>;
  refusal: { reason: RefusalReason; message: string; fields?: Record<string, string> } | null;
  /** The refusal only means "nothing to do on this director". */
  tolerated: boolean;
}

/** A step that ran to an exit: the planned command and what the director answered. */
export function stepResult(
  step: Pick<StepResult, "argv" | "description">,
  out: Pick<StepResult, "exitCode" | "stderr">,
): StepResult {
  return {
    argv: step.argv,
    description: step.description,
    exitCode: out.exitCode,
    stderr: out.stderr,
  };
}

/** A director with nothing to run: ok and verified, at the version it was planned on. */
export function unchangedResult(p: PlannedDirector): DirectorResult {
  return {
    directorId: p.director.id,
    ok: true,
    steps: [],
    error: null,
    verified: true,
    version: p.snapshot.version,
  };
}

/** One line for the audit list, in the operator's words. */
export function summarizeChange(change: Change): string {
  switch (change.kind) {
    case "setWeight":
      return `set weight of ${formatEndpoint(change.realserver)} in ${formatServiceKey(change.service)} to ${change.weight}`;
    case "addRealserver":
      return `add realserver ${formatEndpoint(change.realserver)} to ${formatServiceKey(change.service)}`;
    case "editRealserver":
      return `edit realserver ${formatEndpoint(change.realserver)} of ${formatServiceKey(change.service)}`;
    case "removeRealserver":
      return `remove realserver ${formatEndpoint(change.realserver)} from ${formatServiceKey(change.service)}`;
    case "addService":
      return `add virtual service ${formatServiceKey(change.service.key)}`;
    case "editService":
      return `edit virtual service ${formatServiceKey(change.service.key)}`;
    case "deleteService":
      return `delete virtual service ${formatServiceKey(change.service)}`;
    case "drain":
      return `drain ${describeRealserver(change.realserver)}`;
    case "undrain":
      return `undrain ${describeRealserver(change.realserver)}`;
    case "setSysctl":
      return `set net.ipv4.vs.${change.setting.name} to ${change.setting.value}`;
  }
}

export function describeRealserver(r: { address: string; port?: number | null }): string {
  return r.port === undefined || r.port === null
    ? r.address
    : formatEndpoint({ address: r.address, port: r.port });
}
