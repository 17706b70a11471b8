"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import type { DirectorStatus } from "@/server/live/types";
import { liveStateOf, type LiveFeed } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC } from "@/components/trpc";

/** The live.director subscription plus what the status indicator needs. */
export function useDirectorLive(
  directorId: string,
): LiveFeed & { status: DirectorStatus | undefined } {
  const trpc = useTRPC();
  const now = useNow();
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const sub = useSubscription(
    trpc.live.director.subscriptionOptions(
      { directorId },
      { onData: () => setLastDataAt(receivedAt()) },
    ),
  );
  const status: DirectorStatus | undefined = sub.data?.data;
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
