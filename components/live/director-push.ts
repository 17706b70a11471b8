/**
 * A live.director push applied to the status before it (server/live/director-push.ts makes
 * them). Pure: unit-tested with the server's diff.
 */
import { formatServiceKey, type ServiceState } from "@/server/ipvs/model";
import { samePlain } from "@/server/ipvs/plain";
import type { DirectorPush } from "@/server/live/director-push";
import type { DirectorOwner } from "@/server/live/owner-view";
import type { DirectorStatus } from "@/server/live/types";

/**
 * The status a push stands for, given the one before it. Unchanged services keep their
 * objects from `before`, so the page's memoised rows skip them. null: a delta that does not
 * fit `before` (a late push of an older stream); the caller restarts the stream.
 */
export function applyDirectorPush(
  before: DirectorStatus | undefined,
  push: DirectorPush,
): DirectorStatus | null {
  if (push.kind === "full") return push.status;
  const was = before?.snapshot;
  if (!was || before.directorId !== push.status.directorId) return null;
  const { services, owner, ...rest } = push.snapshot;
  const merged: ServiceState[] = [];
  for (const [i, s] of services.entries()) {
    const kept = s ?? was.services[i];
    if (!kept) return null;
    merged.push(kept);
  }
  return {
    ...push.status,
    snapshot: {
      ...rest,
      services: merged,
      ...("owner" in push.snapshot
        ? { owner: keepOwnership(was.owner, owner) }
        : { owner: was.owner }),
    },
  };
}

/**
 * A new owner view with each service's part that did not change kept as the object before.
 * Every owner read has a new readAt, so the view arrives anew every full poll: without this
 * a director with 200 services re-rendered every service and realserver table each time
 * (a 220 ms task in the big-director bench).
 */
function keepOwnership(
  was: DirectorOwner | null | undefined,
  now: DirectorOwner | null | undefined,
): DirectorOwner | null | undefined {
  if (!was || !now) return now;
  const before = new Map(was.services.map((o) => [formatServiceKey(o.key), o]));
  return {
    ...now,
    services: now.services.map((o) => {
      const kept = before.get(formatServiceKey(o.key));
      return kept && samePlain(kept, o) ? kept : o;
    }),
  };
}
