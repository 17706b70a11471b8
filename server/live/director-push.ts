/**
 * What live.director sends after its first push: the status with only the services that
 * changed. A director with 200 services and traffic on three sent the whole snapshot (1,000
 * realservers) every poll, and the tab spent most of each push parsing and comparing
 * services that had not moved. Pure; the page applies it (components/live/director-push.ts).
 */
import type { ServiceState } from "@/server/ipvs/model";
import { samePlain } from "@/server/ipvs/plain";
import type { DirectorOwner } from "./owner-view";
import type { DirectorSnapshot, DirectorStatus } from "./types";

export type DirectorPush =
  | { kind: "full"; status: DirectorStatus }
  | {
      kind: "delta";
      /** The status, its snapshot's services and owner left out (below). */
      status: Omit<DirectorStatus, "snapshot">;
      snapshot: Omit<DirectorSnapshot, "services" | "owner"> & {
        /** null: the same as the previous push's service at this index. */
        services: Array<ServiceState | null>;
        /** Left out (undefined) when the owner view did not change. */
        owner?: DirectorOwner | null;
      };
    };

/**
 * The push that turns `before` (the last one the browser got) into `after`: a delta when
 * both hold a snapshot, the whole status otherwise.
 */
export function directorPush(before: DirectorStatus | null, after: DirectorStatus): DirectorPush {
  const was = before?.snapshot;
  const now = after.snapshot;
  if (!before || !was || !now || before.directorId !== after.directorId) {
    return { kind: "full", status: after };
  }
  const { snapshot: _, ...status } = after;
  const { services, owner, ...rest } = now;
  return {
    kind: "delta",
    status,
    snapshot: {
      ...rest,
      services: services.map((s, i) => (samePlain(was.services[i], s) ? null : s)),
      ...(samePlain(was.owner, owner) ? {} : { owner }),
    },
  };
}
