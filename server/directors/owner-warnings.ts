/**
 * Preflight warnings that need a director's owner view (keepalived, rules file, runtime):
 * what will undo a change made at run time.
 */
import {
  formatEndpoint,
  formatServiceKey,
  sameServiceKey,
  type ServiceKey,
} from "@/server/ipvs/model";
import { undoNote } from "@/server/ipvs/keepalived/undo";
import type { PreflightWarning } from "@/server/ipvs/preflight";
import type { DirectorOwner } from "@/server/live/owner-view";

/**
 * What will undo a runtime change of `realserver` on one director, from its owner view:
 * "runtime only: keepalived will put weight 3 back when its checker recovers or it restarts".
 * No owner view yet (no full read so far): no warning rather than a guess.
 */
export function undoWarnings(input: {
  directorId: string;
  owner: DirectorOwner | null | undefined;
  realserver: { address: string; port?: number };
  only?: ServiceKey;
  change: "weight" | "remove";
}): PreflightWarning[] {
  const { directorId, owner, realserver } = input;
  if (!owner) return [];
  const warnings: PreflightWarning[] = [];
  for (const service of owner.services) {
    if (input.only && !sameServiceKey(input.only, service.key)) continue;
    for (const rs of service.realservers) {
      if (!rs.inKernel || rs.address !== realserver.address) continue;
      if (realserver.port !== undefined && rs.port !== realserver.port) continue;
      const undo =
        input.change === "remove" && rs.owner.kind === "keepalived" && rs.configuredWeight !== null
          ? undoNote(
              {
                kind: "keepalived",
                weight: rs.configuredWeight,
                inhibitOnFailure: rs.inhibitOnFailure === true,
              },
              "remove",
            )
          : rs.undo;
      warnings.push({
        code: "runtime-undo",
        directorId,
        service: service.key,
        message: `${directorId}, ${formatServiceKey(service.key)} ${formatEndpoint(rs)}: ${undo}`,
      });
    }
  }
  return warnings;
}
