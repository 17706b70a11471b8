"use client";
import { replaceEqualDeep } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import type { DirectorStatus } from "@/server/live/types";
import { liveStateOf, type LiveFeed } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC } from "@/components/trpc";

/**
 * The live.director subscription plus what the status indicator needs. Each push is shared
 * structurally with the one before (react-query's replaceEqualDeep): a service whose numbers
 * did not move keeps its object, so its rows skip rendering. A director with 200 services
 * and traffic on three re-renders three.
 */
export function useDirectorLive(
  directorId: string,
): LiveFeed & { status: DirectorStatus | undefined } {
  const trpc = useTRPC();
  const now = useNow();
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  // Kept with its director: a page reused for another director shows none of the last one's.
  const [kept, setKept] = useState<{ directorId: string; status: DirectorStatus } | null>(null);
  const status = kept?.directorId === directorId ? kept.status : undefined;
  const sub = useSubscription(
    trpc.live.director.subscriptionOptions(
      { directorId },
      {
        onData: (push) => {
          setLastDataAt(receivedAt());
          setKept((before) => ({
            directorId,
            status:
              before?.directorId === directorId
                ? replaceEqualDeep(before.status, push.data)
                : push.data,
          }));
        },
      },
    ),
  );
  let state = liveStateOf({ status: sub.status, hasData: status !== undefined, lastDataAt, now });
  let since = lastDataAt;
  // The stream is fine but the numbers are the last good poll's: the director is not
  // answering, or its poller has just restarted and not polled yet.
  if (
    state === "live" &&
    (status?.reachability === "unreachable" || status?.reachability === "stale")
  ) {
    state = "stale";
    since = status.lastSuccessAt;
  }
  return { status, state, since, error: sub.error?.message ?? null, reset: sub.reset };
}
