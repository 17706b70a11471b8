/**
 * Warnings before a drain (or a weight set to 0): the cases where "weight 0" does not mean
 * "no new clients", measured on the lab kernel (see server/ipvs/__fixtures__/drain-timeline.txt).
 * Pure: reads a snapshot's services and sysctls.
 */
import { drainTargets } from "@/server/ipvs/planner";
import {
  formatEndpoint,
  formatServiceKey,
  sameServiceKey,
  type IpvsSysctls,
  type ServiceKey,
  type SysctlSetting,
} from "@/server/ipvs/model";
import type { ServiceWithRealservers } from "./rules";

export type PreflightWarningCode =
  /** Persistent service with expire_quiescent_template=0: pinned clients keep coming. */
  | "persistence-keeps-clients"
  /** sh/mh without its fallback flag: clients hashed to a weight-0 server are dropped. */
  | "hash-without-fallback"
  /** UDP: flows never end on their own, a drain never reaches 0. */
  | "udp-never-drains"
  /** The change is runtime only: what on this director will undo it (keepalived, a reboot). */
  | "runtime-undo"
  /** Rules-file director: the running rules are saved to the file after the change. */
  | "rules-file-save"
  /** The rules file and the kernel already differed before the change: the operator chooses. */
  | "rules-file-differs"
  /** No rules file loads at boot and keepalived does not own it: lost at reboot. */
  | "lost-at-reboot";

export interface PreflightWarning {
  code: PreflightWarningCode;
  directorId: string;
  service: ServiceKey;
  message: string;
  /** A sysctl that fixes it, offered as one click. */
  fix?: SysctlSetting;
}

function sysctl(sysctls: IpvsSysctls, name: string): number | undefined {
  return sysctls[name]?.[0];
}

/**
 * Warnings for taking `realserver` to weight 0 on one director. `services` limits the check
 * to some services (a single setWeight); by default every service it serves in.
 */
export function drainWarnings(input: {
  directorId: string;
  services: readonly ServiceWithRealservers[];
  sysctls: IpvsSysctls;
  realserver: { address: string; port?: number };
  only?: ServiceKey;
}): PreflightWarning[] {
  const { directorId, services, sysctls, realserver } = input;
  const warnings: PreflightWarning[] = [];
  const seen: ServiceKey[] = [];
  for (const target of drainTargets(services, realserver)) {
    if (input.only && !sameServiceKey(input.only, target.service)) continue;
    if (seen.some((k) => sameServiceKey(k, target.service))) continue;
    seen.push(target.service);
    const svc = services.find((s) => sameServiceKey(s.key, target.service));
    if (!svc) continue;
    const name = formatServiceKey(svc.key);
    const who = formatEndpoint(target.realserver);

    if (svc.persistence && sysctl(sysctls, "expire_quiescent_template") !== 1) {
      warnings.push({
        code: "persistence-keeps-clients",
        directorId,
        service: svc.key,
        message: `${name} is persistent (${svc.persistence.timeout} s) and net.ipv4.vs.expire_quiescent_template is 0: pinned clients keep coming to ${who} until their template expires: set it to 1`,
        fix: { name: "expire_quiescent_template", value: 1 },
      });
    }
    if (svc.scheduler === "sh" || svc.scheduler === "mh") {
      const flag = svc.scheduler === "sh" ? "sh-fallback" : "mh-fallback";
      if (!svc.schedFlags.includes(flag)) {
        warnings.push({
          code: "hash-without-fallback",
          directorId,
          service: svc.key,
          message: `${name} uses ${svc.scheduler} without ${flag}: at weight 0 the clients hashed to ${who} are dropped, not sent elsewhere; add the ${flag} flag to the service first`,
        });
      }
    }
    if (svc.key.kind === "udp") {
      const nodest = sysctl(sysctls, "expire_nodest_conn") === 1;
      warnings.push({
        code: "udp-never-drains",
        directorId,
        service: svc.key,
        message: `${name} is UDP: its flows are refreshed by every packet and never end, so the drain will not reach 0; remove ${who} from it instead${nodest ? "" : " with net.ipv4.vs.expire_nodest_conn set to 1, so its flows are dropped at once"}`,
        ...(nodest ? {} : { fix: { name: "expire_nodest_conn", value: 1 } as const }),
      });
    }
  }
  return warnings;
}
