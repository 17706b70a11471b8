"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { startTransition, useState } from "react";
import type { FleetDirector, FleetSummary } from "@/server/live/fleet-summary";
import { mergeFleetSummary } from "@/components/live/fleet-merge";
import { liveStateOf, type LiveFeed } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC } from "@/components/trpc";

/**
 * The live.fleetSummary subscription (the fleet page's rows, only the changed ones after the
 * first push), merged, plus what the status indicator needs. `onPush` gets each push's rows.
 */
export function useFleetSummary(
  onPush?: (rows: FleetDirector[]) => void,
): LiveFeed & { fleet: FleetSummary | undefined } {
  const trpc = useTRPC();
  const now = useNow();
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const [fleet, setFleet] = useState<FleetSummary | undefined>(undefined);
  const sub = useSubscription(
    trpc.live.fleetSummary.subscriptionOptions(undefined, {
      onData: (push) => {
        setLastDataAt(receivedAt());
        // A transition (rendered in slices, yielding to input and frames): a push of 250
        // changed directors must not block the page for one long task.
        startTransition(() => setFleet((before) => mergeFleetSummary(before, push)));
        onPush?.(push.clusters.flatMap((c) => c.directors));
      },
    }),
  );
  const state = liveStateOf({ status: sub.status, hasData: fleet !== undefined, lastDataAt, now });
  return { fleet, state, since: lastDataAt, error: sub.error?.message ?? null, reset: sub.reset };
}
