/**
 * One line per director for the fleet view: who owns its rules, how much drift there is,
 * and whether it carries the traffic (its VRRP instances are MASTER).
 */
import { type VrrpDump } from "./dump";
import { type OwnerReport } from "./owner";

export interface OwnerSummary {
  /** "mixed" when services have different owners; "none" when the kernel holds nothing. */
  owner: "keepalived" | "rules-file" | "runtime" | "mixed" | "none";
  services: number;
  /** Drift items an operator should look at (expected ones, like a checker holding 0, left out). */
  unexpectedDrift: number;
  expectedDrift: number;
}

export function summarizeOwnership(report: OwnerReport): OwnerSummary {
  const kinds = new Set(report.services.map((s) => s.owner.kind));
  const items = report.services.flatMap((s) => [
    ...s.drift,
    ...s.realservers.flatMap((r) => r.drift),
  ]);
  const [only] = kinds;
  return {
    owner: kinds.size === 0 ? "none" : kinds.size > 1 || only === undefined ? "mixed" : only,
    services: report.services.length,
    unexpectedDrift: items.filter((d) => !d.expected).length,
    expectedDrift: items.filter((d) => d.expected).length,
  };
}

/**
 * MASTER when every VRRP instance is (a sync group moves them together), BACKUP when all
 * are BACKUP, FAULT when any is; "mixed" otherwise, "unknown" when none reports a state.
 */
export function vrrpRole(dump: VrrpDump): "MASTER" | "BACKUP" | "FAULT" | "mixed" | "unknown" {
  const states = dump.instances.map((i) => i.state).filter((s): s is string => s !== null);
  if (states.length === 0) return "unknown";
  if (states.includes("FAULT")) return "FAULT";
  if (states.every((s) => s === "MASTER")) return "MASTER";
  if (states.every((s) => s === "BACKUP")) return "BACKUP";
  return "mixed";
}
