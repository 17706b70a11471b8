/**
 * The keepalived side of ownership: a configured realserver against the kernel and the
 * checker dump, and the plain-language "what will undo a runtime change" for previews.
 */
import { type RealserverRule, type RuleSet } from "@/server/ipvs/model";
import { type CheckDumpRealserver } from "./dump";
import {
  type DriftItem,
  type DriftReason,
  type RealserverOwnership,
  type ServiceOwnership,
} from "./owner";
import { type ProgrammedRealserver, type ProgrammedService } from "./program";

type KernelService = RuleSet["services"][number];

export type UndoOwner =
  | { kind: "keepalived"; weight: number; inhibitOnFailure: boolean }
  | { kind: "keepalived-unknown" }
  | { kind: "rules-file"; path: string; weight: number }
  | { kind: "runtime" };

export type UndoChange = "weight" | "remove" | "add";

/**
 * What will undo a change made now at run time, e.g. "runtime only: keepalived will put
 * weight 3 back when its checker recovers or it restarts".
 */
export function undoNote(owner: UndoOwner, change: UndoChange = "weight"): string {
  switch (owner.kind) {
    case "keepalived":
      if (change === "remove") {
        return `runtime only: keepalived will add it back with weight ${owner.weight} when it restarts${owner.inhibitOnFailure ? "" : " or its checker fails and recovers"}`;
      }
      return `runtime only: keepalived will put weight ${owner.weight} back when its checker recovers or it restarts`;
    case "keepalived-unknown":
      return "runtime only: keepalived's config does not have it; lost when keepalived restarts or the director reboots";
    case "rules-file":
      if (change === "remove") return `runtime only: ${owner.path} adds it back at reboot`;
      if (change === "add") return `runtime only: not in ${owner.path}; lost at reboot`;
      return `runtime only: ${owner.path} puts weight ${owner.weight} back at reboot`;
    case "runtime":
      return "runtime only: lost at reboot";
  }
}

function weightDrift(
  rs: ProgrammedRealserver,
  kernelWeight: number,
  dumped: CheckDumpRealserver | null,
  up: boolean | null,
): DriftItem | null {
  const configured = rs.weight;
  if (kernelWeight === configured) return null;
  const head = `keepalived: weight ${configured}, kernel ${kernelWeight}`;
  const back = `keepalived puts ${configured} back when its checker recovers or it restarts`;
  const item = (reason: DriftReason, expected: boolean, why: string): DriftItem => ({
    kind: "weight",
    kernel: kernelWeight,
    configured,
    reason,
    expected,
    message: `${head}: ${why}`,
  });
  if (up === false && rs.inhibitOnFailure && kernelWeight === 0)
    return item("checker-down", true, "checker down");
  if (dumped?.weight === kernelWeight && up !== false) {
    return item(
      "keepalived-dynamic",
      true,
      rs.dynamicWeight ? "set by its checker (misc_dynamic)" : "set by keepalived",
    );
  }
  if (up === null && rs.inhibitOnFailure && kernelWeight === 0) {
    return item(
      "checker-state-unknown",
      false,
      "checker down or drained at runtime (keepalived's checker state not read)",
    );
  }
  if (kernelWeight === 0) return item("drained", false, `drained at runtime; ${back}`);
  return item("runtime-change", false, `changed at runtime; ${back}`);
}

export function keepalivedRealserver(
  service: ProgrammedService,
  rs: ProgrammedRealserver,
  km: RealserverRule | null,
  dumped: CheckDumpRealserver | null,
  up: boolean | null,
): RealserverOwnership {
  const drift: DriftItem[] = [];
  const where = `${rs.source.file}:${rs.source.line}`;
  if (km !== null) {
    const d = weightDrift(rs, km.weight, dumped, up);
    if (d !== null) drift.push(d);
    if (km.forward !== rs.forward) {
      drift.push({
        kind: "setting",
        field: "forward",
        kernel: km.forward,
        configured: rs.forward,
        expected: false,
        message: `keepalived: forwarding ${rs.forward}, kernel ${km.forward}: changed at runtime`,
      });
    }
  } else if (up === false && !rs.inhibitOnFailure) {
    drift.push({
      kind: "member-missing",
      reason: "checker-down",
      expected: true,
      message: "keepalived: removed while its checker is down",
    });
  } else if (up === null) {
    drift.push({
      kind: "member-missing",
      reason: "checker-state-unknown",
      expected: false,
      message: `in keepalived's config (${where}), not in the kernel: its checker is down or it was removed at runtime (keepalived's checker state not read)`,
    });
  } else {
    drift.push({
      kind: "member-missing",
      reason: "runtime-change",
      expected: false,
      message: `in keepalived's config (${where}), not in the kernel: removed at runtime; keepalived adds it back when it restarts`,
    });
  }
  return {
    address: rs.address,
    port: rs.port,
    owner: { kind: "keepalived", file: rs.source.file, line: rs.source.line },
    inKernel: km !== null,
    kernelWeight: km?.weight ?? null,
    configuredWeight: rs.weight,
    inhibitOnFailure: rs.inhibitOnFailure,
    checker: up === null ? null : up ? "up" : "down",
    drift,
    undo: undoNote({
      kind: "keepalived",
      weight: rs.weight,
      inhibitOnFailure: rs.inhibitOnFailure,
    }),
  };
}

export function keepalivedService(
  service: ProgrammedService,
  kernel: KernelService | null,
  realservers: RealserverOwnership[],
  settingsDrift: (kernel: KernelService, owner: ProgrammedService, who: string) => DriftItem[],
): ServiceOwnership {
  const drift: DriftItem[] =
    kernel === null
      ? [
          {
            kind: "service-missing",
            expected: false,
            message: `in keepalived's config (${service.source.file}:${service.source.line}), not in the kernel: deleted at runtime; keepalived adds it back when it restarts`,
          },
        ]
      : settingsDrift(kernel, service, "keepalived");
  return {
    key: service.key,
    owner: { kind: "keepalived", file: service.source.file, line: service.source.line },
    inKernel: kernel !== null,
    drift,
    realservers,
  };
}
