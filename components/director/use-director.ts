"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { startTransition, useEffect, useRef, useState } from "react";
import type { DirectorStatus } from "@/server/live/types";
import { applyDirectorPush } from "@/components/live/director-push";
import { liveStateOf, type LiveFeed } from "@/components/live/live-state";
import { receivedAt, useNow } from "@/components/live/use-now";
import { useTRPC } from "@/components/trpc";

/**
 * The live.director subscription plus what the status indicator needs. After the first push
 * only changed services arrive (director-push.ts); the others keep their objects, so their
 * rows skip rendering: a director with 200 services and traffic on three re-renders three.
 */
interface Kept {
  directorId: string;
  status: DirectorStatus | undefined;
  misfit: boolean;
}

export function useDirectorLive(
  directorId: string,
): LiveFeed & { status: DirectorStatus | undefined } {
  const trpc = useTRPC();
  const now = useNow();
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  // Kept with its director: a page reused for another director shows none of the last one's.
  // misfit: a delta arrived that fits nothing kept (a late push of an older stream).
  const [kept, setKept] = useState<Kept | null>(null);
  const status = kept?.directorId === directorId ? kept.status : undefined;
  const sub = useSubscription(
    trpc.live.director.subscriptionOptions(
      { directorId },
      {
        onData: (push) => {
          setLastDataAt(receivedAt());
          // A delta is a transition: React renders it in slices and yields to input and
          // frames between them, so a push that touches many services never holds the main
          // thread for a long task. A whole push (a stream's first) renders at once: it is
          // what the page is waiting for.
          const apply = () =>
            setKept((before) => {
              const mine = before?.directorId === directorId ? before : null;
              const next = applyDirectorPush(mine?.status, push.data);
              if (next) return { directorId, status: next, misfit: false };
              return { directorId, status: mine?.status, misfit: true };
            });
          if (push.data.kind === "full") apply();
          else startTransition(apply);
        },
      },
    ),
  );
  // A misfit restarts the stream, which begins with the whole status.
  const reset = useRef(sub.reset);
  useEffect(() => {
    reset.current = sub.reset;
  });
  useEffect(() => {
    if (kept?.misfit) reset.current();
  }, [kept]);
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
