"use client";
import { memo } from "react";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { formatClock } from "@/components/format";
import { useNow } from "./use-now";

const RECENT_MS = 60 * 60_000;

/**
 * An alert for drains undone outside the console in the last hour (keepalived put the
 * weight back, or someone did by hand): the operator believes the realserver is out.
 */
export const UndoneDrainsAlert = memo(function UndoneDrainsAlert({
  clusterId,
}: {
  clusterId?: string;
}) {
  const trpc = useTRPC();
  // A minute's granularity keeps the query key, and so its cache, stable between ticks.
  const since = Math.floor(useNow(60_000) / 60_000) * 60_000 - RECENT_MS;
  const events = useQuery(
    trpc.audit.outside.queryOptions(
      { ...(clusterId ? { clusterId } : {}), sinceMs: since },
      { refetchInterval: 5_000 },
    ),
  );
  const undone = (events.data ?? []).filter((e) => e.action === "drain.undone");
  if (undone.length === 0) return null;
  return (
    <Alert variant="warning" role="alert" data-testid="undone-drains-alert">
      <AlertTitle>
        {undone.length === 1 ? "A drain was undone" : `${undone.length} drains were undone`} outside
        the console
      </AlertTitle>
      <AlertDescription>
        <ul className="flex flex-col gap-0.5">
          {undone.map((e) => (
            <li key={e.id}>
              {formatClock(e.startedAt)} · {e.summary} ·{" "}
              <Link className="text-primary hover:underline" href="/audit">
                audit log
              </Link>
            </li>
          ))}
        </ul>
      </AlertDescription>
    </Alert>
  );
});
