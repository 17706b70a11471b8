"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

/**
 * "Make B like A" and a rules file's "Save running rules" / "Restore saved rules": the
 * preview (steps, the exact file diff and ipvsadm commands, what will change), then apply
 * with the versions the preview read (a director changed meanwhile is a CONFLICT, nothing
 * runs), and the result or the exact error.
 */
export type OwnerAction =
  | { kind: "sync"; clusterId: string; source: string; target: string }
  | { kind: "rules"; directorId: string; action: "save" | "restore" };

function titleOf(a: OwnerAction): string {
  if (a.kind === "sync") return `Make ${a.target} like ${a.source}`;
  return a.action === "save"
    ? `Save the running rules of ${a.directorId}`
    : `Restore ${a.directorId}'s saved rules`;
}

export function OwnerActionDialog({
  action,
  onOpenChange,
}: {
  action: OwnerAction;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const once = { staleTime: 0, gcTime: 0, retry: false } as const;
  const sync = useQuery(
    trpc.pair.syncPreview.queryOptions(
      action.kind === "sync"
        ? { clusterId: action.clusterId, source: action.source, target: action.target }
        : { clusterId: "", source: "", target: "" },
      { ...once, enabled: action.kind === "sync" },
    ),
  );
  const rules = useQuery(
    trpc.pair.rulesPreview.queryOptions(
      action.kind === "rules"
        ? { directorId: action.directorId, action: action.action }
        : { directorId: "", action: "save" },
      { ...once, enabled: action.kind === "rules" },
    ),
  );
  const preview = action.kind === "sync" ? sync : rules;
  const data = preview.data;
  const apply = useMutation({
    mutationFn: async (): Promise<string> => {
      if (action.kind === "sync") {
        const r = await client.pair.sync.mutate({
          clusterId: action.clusterId,
          source: action.source,
          target: action.target,
          expectedVersions: sync.data?.versions ?? {},
        });
        return r.status === "applied"
          ? `${r.target} now matches ${r.source} (read back on both)`
          : `nothing to do: ${r.target} already matched ${r.source}`;
      }
      const r = await client.pair.rulesApply.mutate({
        directorId: action.directorId,
        action: action.action,
        expectedVersion: rules.data?.version ?? "",
      });
      return `${r.directorId}: ${r.status}`;
    },
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  const commands = data?.commands ?? [];
  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={titleOf(action)}
      description="Preview: exactly what changes. Applying checks that nothing moved since."
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            {apply.isSuccess ? "Close" : "Cancel"}
          </Button>
          {!apply.isSuccess && (
            <Button
              data-testid="owner-action-apply"
              disabled={!data || data.nothingToDo || apply.isPending}
              onClick={() => apply.mutate()}
            >
              Apply
            </Button>
          )}
        </>
      }
    >
      {preview.isPending && <p className="text-sm text-muted-foreground">Planning…</p>}
      {preview.error && (
        <p role="alert" className="text-sm text-danger">
          {preview.error.message}
        </p>
      )}
      {data && (
        <section data-testid="owner-action-preview" className="flex flex-col gap-2 text-sm">
          <p data-testid="owner-action-steps">{data.steps}</p>
          {"warning" in data && data.warning && <p className="text-warn">{data.warning}</p>}
          {data.changes.length > 0 && (
            <ul className="list-disc pl-5 text-xs" data-testid="owner-action-changes">
              {data.changes.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          )}
          {data.diff && (
            <pre
              data-testid="owner-action-diff"
              className="overflow-x-auto rounded bg-muted p-2 text-xs"
            >
              {data.diff}
            </pre>
          )}
          {commands.length > 0 && (
            <pre
              data-testid="owner-action-commands"
              className="overflow-x-auto rounded bg-muted p-2 text-xs"
            >
              {commands.map((argv) => `$ ${argv.join(" ")}`).join("\n")}
            </pre>
          )}
          {"notes" in data &&
            data.notes.map((n) => (
              <p key={n} className="text-xs text-muted-foreground">
                {n}
              </p>
            ))}
        </section>
      )}
      {apply.error && (
        <p role="alert" data-testid="owner-action-error" className="text-sm text-danger">
          {apply.error.message}
        </p>
      )}
      {apply.data && (
        <p data-testid="owner-action-result" className="text-sm text-ok">
          {apply.data}
        </p>
      )}
    </Dialog>
  );
}
