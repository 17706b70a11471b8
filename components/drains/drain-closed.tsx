"use client";
import { formatDateTime } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import type { RouterOutputs } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

type Drain = RouterOutputs["drains"]["get"];

/** How a closed drain ended when the console did not end it itself: restored by hand, abandoned. */
export function DrainClosed({ drain }: { drain: Drain }) {
  const zone = useTimeZone();
  if (drain.undone)
    return (
      <Alert data-testid="drain-undone">
        <AlertTitle>
          Restored {drain.undone.by === "keepalived" ? "by keepalived" : "outside the console"}
        </AlertTitle>
        <AlertDescription>
          The weights came back on {drain.undone.directorId} ({drain.undone.by}), seen at{" "}
          {formatDateTime(drain.undone.at, zone)}: audit entry {drain.undone.auditId}.
        </AlertDescription>
      </Alert>
    );
  if (drain.abandoned)
    return (
      <Alert data-testid="drain-abandoned">
        <AlertTitle>Abandoned by {drain.abandoned.by}</AlertTitle>
        <AlertDescription>
          {formatDateTime(drain.abandoned.at, zone)}: {drain.abandoned.reason}. Nothing ran on the
          directors; audit entry {drain.abandoned.auditId}.
        </AlertDescription>
      </Alert>
    );
  return null;
}
