"use client";
import { memo } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { formatClock } from "@/components/format";

/** The newest changes made to this director outside the console, and drains they undid. */
export const OutsideChanges = memo(function OutsideChanges({ directorId }: { directorId: string }) {
  const trpc = useTRPC();
  const events = useQuery(
    trpc.audit.outside.queryOptions({ directorId, limit: 20 }, { refetchInterval: 5_000 }),
  );
  const list = events.data ?? [];
  if (list.length === 0) return null;
  return (
    <section
      aria-label="Changes outside the console"
      className="flex flex-col gap-1 rounded-md border bg-card p-3 text-sm"
      data-testid="outside-changes"
    >
      <h2 className="font-semibold">Changes outside the console</h2>
      <ul className="flex flex-col gap-0.5 text-xs">
        {list.map((e) => (
          <li key={e.id} data-outside-event={e.action} data-by={e.user}>
            <span className="text-muted-foreground">{formatClock(e.startedAt)}</span>{" "}
            <Badge variant={e.action === "drain.undone" ? "warn" : "outline"}>
              {e.action === "drain.undone" ? "drain undone" : e.user}
            </Badge>{" "}
            {e.summary}
          </li>
        ))}
      </ul>
    </section>
  );
});
