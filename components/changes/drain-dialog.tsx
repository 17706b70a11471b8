"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { DrainSelector } from "@/server/ipvs/change";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { commitFixes } from "./change-dialog";
import { PlanDialog } from "./plan-dialog";

/**
 * Drain: weight 0 on every service the realserver serves, on every director of the cluster,
 * with the old weights recorded for Undrain. Then the progress view.
 */
export function DrainDialog({
  clusterId,
  realserver,
  onOpenChange,
}: {
  clusterId: string;
  realserver: DrainSelector;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const router = useRouter();
  const preview = useQuery(
    trpc.drains.preview.queryOptions(
      { clusterId, realserver },
      { staleTime: 0, gcTime: 0, retry: false },
    ),
  );
  const label =
    realserver.port === undefined ? realserver.address : `${realserver.address}:${realserver.port}`;
  return (
    <PlanDialog
      open
      onOpenChange={onOpenChange}
      title={`Drain ${label}`}
      description="New clients stop going to this realserver; its existing connections finish. The current weights are recorded so Undrain can restore them."
      preview={preview}
      applyLabel="Drain"
      destructive
      onApply={async ({ versions, fixes }) => {
        const setExpireQuiescentTemplate = fixes.some(
          (f) => f.name === "expire_quiescent_template" && f.value === 1,
        );
        // expire_quiescent_template is set by drains.start itself, in the same operation as the drain.
        const failed = await commitFixes(
          client,
          clusterId,
          fixes.filter((f) => f.name !== "expire_quiescent_template"),
          versions,
        );
        if (failed) return failed;
        const r = await client.drains.start.mutate({
          clusterId,
          realserver,
          expectedVersions: versions,
          setExpireQuiescentTemplate,
        });
        const ok = r.results.every((x) => x.ok);
        if (ok) router.push(`/drains/${r.drainId}`);
        return { ok, results: r.results };
      }}
      onApplied={() => {
        void queryClient.invalidateQueries();
        onOpenChange(false);
      }}
    />
  );
}
