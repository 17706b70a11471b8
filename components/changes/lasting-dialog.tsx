"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import { formatEndpoint, formatServiceKey, type Endpoint } from "@/server/ipvs/model";

/**
 * A change written into keepalived's config on every director of the cluster: per director
 * the file diff next to the ipvsadm commands and the steps ("edit FILE line 11, check the
 * config, reload keepalived"), applied with the previewed files versions.
 */
export function LastingDialog({
  clusterId,
  change,
  title,
  onOpenChange,
}: {
  clusterId: string;
  change: LastingChange;
  title: string;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const preview = useQuery(
    trpc.lasting.preview.queryOptions(
      { clusterId, change },
      { staleTime: 0, gcTime: 0, retry: false },
    ),
  );
  const apply = useMutation({
    mutationFn: () =>
      client.lasting.commit.mutate({
        clusterId,
        change,
        expectedFilesVersions: Object.fromEntries(
          (preview.data ?? []).map((p) => [p.directorId, p.filesVersion]),
        ),
      }),
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={title}
      description="Written into keepalived's config, so a reload, a checker recovery, a restart or a failover keeps it."
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            {apply.isSuccess ? "Close" : "Cancel"}
          </Button>
          {!apply.isSuccess && (
            <Button
              data-testid="lasting-apply"
              disabled={!preview.data || apply.isPending}
              onClick={() => apply.mutate()}
            >
              Apply on every director
            </Button>
          )}
        </>
      }
    >
      {preview.isPending && <p className="text-sm text-muted-foreground">Planning…</p>}
      {preview.error && (
        <p role="alert" className="text-sm text-destructive">
          {preview.error.message}
        </p>
      )}
      {preview.data?.map((p) => (
        <section key={p.directorId} data-testid="lasting-director" data-director={p.directorId}>
          <h3 className="font-medium">{p.directorId}</h3>
          <p data-testid="lasting-steps" className="text-sm">
            {p.steps}
          </p>
          {p.commands.map((argv) => (
            <pre key={argv.join(" ")} className="text-xs">
              {argv.join(" ")}
            </pre>
          ))}
          {p.diff && (
            <pre
              data-testid="lasting-diff"
              className="overflow-x-auto rounded bg-muted p-2 text-xs"
            >
              {p.diff}
            </pre>
          )}
          {p.notes.map((n) => (
            <p key={n} className="text-xs text-muted-foreground">
              {n}
            </p>
          ))}
        </section>
      ))}
      {apply.error && (
        <p role="alert" data-testid="lasting-error" className="text-sm text-destructive">
          {apply.error.message}
        </p>
      )}
      {apply.data && (
        <ul data-testid="lasting-result">
          {apply.data.map((r) => (
            <li key={r.directorId} data-director={r.directorId} data-status={r.status}>
              {r.directorId}: {r.status}
              {r.outcome ? ` (${JSON.stringify(r.outcome.timings)} ms)` : ""}
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}

/** Undrain of a member drained in keepalived's config: the recorded weight, previewed first. */
export function LastingUndrainDialog({
  clusterId,
  service,
  realserver,
  onOpenChange,
}: {
  clusterId: string;
  service: LastingChange["service"];
  realserver: Endpoint;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const change = useQuery(
    trpc.lasting.undrainChange.queryOptions(
      { clusterId, service, realserver },
      { staleTime: 0, gcTime: 0, retry: false },
    ),
  );
  const title = `Undrain ${formatEndpoint(realserver)} in ${formatServiceKey(service)} in keepalived's config`;
  if (change.data)
    return (
      <LastingDialog
        clusterId={clusterId}
        change={change.data}
        title={title}
        onOpenChange={onOpenChange}
      />
    );
  return (
    <Dialog open onOpenChange={onOpenChange} title={title}>
      {change.error ? (
        <p role="alert" className="text-sm text-destructive">
          {change.error.message}
        </p>
      ) : (
        <p className="text-sm text-muted-foreground">Reading the weight before the drain…</p>
      )}
    </Dialog>
  );
}

/** keepalived owns the service but its config cannot say this: nothing is done anywhere. */
export function RefusedDialog({
  title,
  message,
  onOpenChange,
}: {
  title: string;
  message: string;
  onOpenChange: (open: boolean) => void;
}) {
  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={title}
      description="keepalived owns this service: a runtime change would be undone at its next reload."
    >
      <p role="alert" data-testid="lasting-refused" className="text-sm text-destructive">
        {message}
      </p>
    </Dialog>
  );
}
