"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import type { FleetStatus } from "@/components/trpc";
import { liveStateOf, type LiveFeed } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC } from "@/components/trpc";

/** The live.fleet subscription plus what the status indicator needs. */
export function useFleetLive(): LiveFeed & { fleet: FleetStatus | undefined } {
  const trpc = useTRPC();
  const now = useNow();
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const sub = useSubscription(
    trpc.live.fleet.subscriptionOptions(undefined, {
      onData: () => {
        setLastDataAt(receivedAt());
      },
    }),
  );
  const fleet: FleetStatus | undefined = sub.data;
  const state = liveStateOf({ status: sub.status, hasData: fleet !== undefined, lastDataAt, now });
  return { fleet, state, since: lastDataAt, error: sub.error?.message ?? null, reset: sub.reset };
}
