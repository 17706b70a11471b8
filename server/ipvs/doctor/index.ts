/**
 * The NAT-mode doctor: every check over one read of a director. Pure.
 */
import { checkContext, type DoctorService, type VrrpRole } from "./context";
import {
  connTableOversized,
  conntrackOff,
  ipForwardOff,
  natRulesInterfere,
  rpFilterStrict,
  sendRedirectsOn,
  vipMissing,
} from "./checks-director";
import {
  clientInRealserverSubnet,
  mixedForwarding,
  noRouteToRealserver,
  realserverDown,
  repliesBypassDirector,
} from "./checks-realservers";
import type { DoctorInputs, Finding, Severity } from "./types";

export type { DoctorService, VrrpRole } from "./context";
export * from "./types";

const CHECKS = [
  ipForwardOff,
  sendRedirectsOn,
  repliesBypassDirector,
  realserverDown,
  clientInRealserverSubnet,
  noRouteToRealserver,
  vipMissing,
  natRulesInterfere,
  mixedForwarding,
  rpFilterStrict,
  conntrackOff,
  connTableOversized,
];

const ORDER: Record<Severity, number> = { error: 0, warn: 1, info: 2 };

/** `vrrpRole`: keepalived's role when the owner view read it (a BACKUP holds no VIPs). */
export function diagnose(
  inputs: DoctorInputs,
  services: readonly DoctorService[],
  vrrpRole: VrrpRole | null = null,
): Finding[] {
  const ctx = checkContext(inputs, services, vrrpRole);
  const findings = CHECKS.flatMap((check) => check(ctx));
  const incomplete = [...inputs.problems];
  if (inputs.probes === null)
    incomplete.push(
      "bash is not installed: the realservers' ports were not probed, so replies-bypass-director and realserver-down were not checked",
    );
  if (incomplete.length > 0) {
    findings.push({
      code: "doctor-incomplete",
      severity: "info",
      subject: { kind: "director", name: "director" },
      message: "Part of the director could not be read; the checks that need it were skipped.",
      evidence: incomplete,
    });
  }
  return findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
}
