"use client";
/**
 * Undrain and Remove for a drained realserver: each previews its plan on every director and
 * applies it through one drains.* mutation that carries the versions the operator reviewed.
 */
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { sameServiceKey } from "@/server/ipvs/model";
import type { DrainSelector } from "@/server/ipvs/change";
import type { PreviewResult } from "@/components/trpc";
import { PlanDialog, type ApplyOutcome, type PreviewState } from "@/components/changes/plan-dialog";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { formatTarget, type DrainTarget, type Original } from "./drain-target";

function selector(rs: DrainTarget): DrainSelector {
  return rs.port === null ? { address: rs.address } : { address: rs.address, port: rs.port };
}

function uniqueTargets(original: readonly Original[]): Original[] {
  const out: Original[] = [];
  for (const o of original)
    if (!out.some((x) => sameServiceKey(x.service, o.service) && x.port === o.port)) out.push(o);
  return out;
}

interface DrainActionProps {
  drainId: number;
  clusterId: string;
  realserver: DrainTarget;
  original: Original[];
  onClose: () => void;
}

export function UndrainDialog({
  drainId,
  clusterId,
  realserver,
  original,
  onClose,
}: DrainActionProps) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const weights = uniqueTargets(original).map((o) => ({
    service: o.service,
    port: o.port,
    weight: o.weight,
  }));
  const preview = useQuery(
    trpc.changes.preview.queryOptions(
      { clusterId, change: { kind: "undrain", realserver: selector(realserver), weights } },
      { staleTime: 0, gcTime: 0, retry: false, enabled: weights.length > 0 },
    ),
  );
  return (
    <DrainPlanDialog
      verb="Undrain"
      realserver={realserver}
      description="Puts back the weights recorded when the drain started."
      preview={preview}
      apply={(expectedVersions) => client.drains.undrain.mutate({ drainId, expectedVersions })}
      onClose={onClose}
    />
  );
}

export function RemoveDialog(props: DrainActionProps) {
  const { drainId, clusterId, realserver, original, onClose } = props;
  const trpc = useTRPC();
  const client = useTRPCClient();
  const targets = uniqueTargets(original);
  const previews = useQueries({
    queries: targets.map((o) =>
      trpc.changes.preview.queryOptions(
        {
          clusterId,
          change: {
            kind: "removeRealserver",
            service: o.service,
            realserver: { address: realserver.address, port: o.port },
          },
        },
        { staleTime: 0, gcTime: 0, retry: false },
      ),
    ),
  });
  // One dialog for the removal from every service: the previews merged per director, in order.
  const all = previews.map((p) => p.data);
  let data: PreviewResult | undefined;
  if (all.length > 0 && all.every((x) => x !== undefined)) {
    const done = all.filter((x): x is PreviewResult => x !== undefined);
    const first = done[0];
    if (first) {
      data = {
        versions: first.versions,
        warnings: done.flatMap((x) => x.warnings),
        perDirector: first.perDirector.map((d0) => {
          const parts = done
            .map((x) => x.perDirector.find((d) => d.directorId === d0.directorId))
            .filter((x) => x !== undefined);
          const refused = parts.find((p) => !p.ok);
          if (refused) return refused;
          return {
            directorId: d0.directorId,
            ok: true as const,
            steps: parts.flatMap((p) => (p.ok ? p.steps : [])),
          };
        }),
      };
    }
  }
  const preview: PreviewState = {
    data,
    error: previews.find((p) => p.error)?.error ?? null,
    isPending: previews.some((p) => p.isPending),
    isFetching: previews.some((p) => p.isFetching),
    refetch: () => previews.forEach((p) => void p.refetch()),
  };
  return (
    <DrainPlanDialog
      verb="Remove"
      realserver={realserver}
      description="Removes the drained realserver from every service it served in, on every director."
      preview={preview}
      destructive
      apply={(expectedVersions) => client.drains.remove.mutate({ drainId, expectedVersions })}
      onClose={onClose}
    />
  );
}

/**
 * What Undrain and Remove share: the plan for the drained realserver, applied by one drains.*
 * mutation that carries the versions the operator reviewed.
 */
function DrainPlanDialog({
  verb,
  realserver,
  description,
  preview,
  destructive,
  apply,
  onClose,
}: {
  verb: string;
  realserver: DrainTarget;
  description: string;
  preview: PreviewState;
  destructive?: boolean;
  apply: (expectedVersions: Record<string, string>) => Promise<ApplyOutcome>;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  return (
    <PlanDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={`${verb} ${formatTarget(realserver)}`}
      description={description}
      preview={preview}
      applyLabel={verb}
      destructive={destructive}
      onApply={async ({ versions }) => {
        const { ok, results } = await apply(versions);
        return { ok, results };
      }}
      onApplied={() => {
        void queryClient.invalidateQueries();
        onClose();
      }}
    />
  );
}
