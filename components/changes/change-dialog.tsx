"use client";
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { SysctlSetting } from "@/server/ipvs/model";
import type { ChangeInput } from "@/server/ipvs/change";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { PlanDialog, type ApplyOutcome } from "./plan-dialog";
import { RulesFilePanel, type RulesFileChoice } from "./rules-file-panel";

/**
 * Applies the sysctl fixes ticked in a plan dialog, one by one; the first failure is returned
 * and stops the rest. Fixes do not touch the rules' version, so they go first, with the same
 * versions as the change after them.
 */
export async function commitFixes(
  client: ReturnType<typeof useTRPCClient>,
  clusterId: string,
  fixes: readonly SysctlSetting[],
  versions: Record<string, string>,
): Promise<ApplyOutcome | null> {
  for (const setting of fixes) {
    const r = await client.changes.commit.mutate({
      clusterId,
      change: { kind: "setSysctl", setting },
      expectedVersions: versions,
    });
    if (!r.ok) return { ok: false, results: r.results };
  }
  return null;
}

/** Preview then apply one change of changes.* on every director of a cluster. */
export function ChangeDialog({
  clusterId,
  change,
  title,
  applyLabel = "Apply",
  destructive,
  onOpenChange,
  onApplied,
}: {
  clusterId: string;
  change: ChangeInput;
  title: string;
  applyLabel?: string;
  destructive?: boolean;
  onOpenChange: (open: boolean) => void;
  onApplied?: (outcome: ApplyOutcome) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const preview = useQuery(
    trpc.changes.preview.queryOptions(
      { clusterId, change },
      { staleTime: 0, gcTime: 0, retry: false, refetchOnWindowFocus: false },
    ),
  );
  const rulesFiles = useQuery(
    trpc.changes.rulesFiles.queryOptions(
      { clusterId, change },
      { staleTime: 0, gcTime: 0, retry: false, refetchOnWindowFocus: false },
    ),
  );
  const [choice, setChoice] = useState<RulesFileChoice | null>(null);
  const files = rulesFiles.data ?? [];
  const mustChoose = files.some((f) => f.differedBefore) && choice === null;
  return (
    <PlanDialog
      open
      onOpenChange={onOpenChange}
      title={title}
      preview={preview}
      applyLabel={applyLabel}
      destructive={destructive}
      applyBlocked={rulesFiles.isPending || mustChoose}
      onApply={async ({ versions, fixes }) => {
        const failed = await commitFixes(client, clusterId, fixes, versions);
        if (failed) return failed;
        const r = await client.changes.commit.mutate({
          clusterId,
          change,
          expectedVersions: versions,
          rulesFile: choice ?? "save",
          expectedRulesFiles: Object.fromEntries(files.map((f) => [f.directorId, f.fileHash])),
        });
        const unsaved = r.rulesFiles.filter(
          (f) => f.result === "failed" || f.result === "conflict",
        );
        if (r.ok && unsaved.length > 0) {
          // The kernel has the change; the file does not: said plainly, the dialog stays open.
          throw new Error(
            `Applied to the kernel, but the rules file was not saved: ${unsaved.map((f) => `${f.directorId}: ${f.message}`).join("; ")}`,
          );
        }
        return { ok: r.ok, results: r.results };
      }}
      onApplied={(outcome) => {
        void queryClient.invalidateQueries();
        onApplied?.(outcome);
        onOpenChange(false);
      }}
    >
      <RulesFilePanel files={files} choice={choice} onChoice={setChoice} />
    </PlanDialog>
  );
}
