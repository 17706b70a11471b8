/**
 * A live.director push applied to the status before it (server/live/director-push.ts makes
 * them). Pure: unit-tested with the server's diff.
 */
import type { ServiceState } from "@/server/ipvs/model";
import type { DirectorPush } from "@/server/live/director-push";
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
      ...("owner" in push.snapshot ? { owner } : { owner: was.owner }),
    },
  };
}
