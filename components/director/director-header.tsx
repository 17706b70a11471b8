import Link from "next/link";
import { ConsoleErrorAlert } from "@/components/changes/error-panel";
import { isJumpHostKey, trustableHostKey } from "@/components/errors";
import { formatCount } from "@/components/format";
import { ReachabilityBadge } from "@/components/live/reachability-badge";
import { LiveErrorAlert } from "@/components/live/live-error-alert";
import { Button, buttonVariants } from "@/components/ui/button";
import { formatClock } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { ConnectionStatus } from "@/components/ui/connection-status";
import { type useDirectorLive } from "./use-director";
import type { Action } from "./actions";

/** The director's name, cluster, live state, last poll and the page's buttons. */
export function DirectorHeader({
  directorId,
  clusterId,
  live,
  onAction,
}: {
  directorId: string;
  clusterId: string | null;
  live: ReturnType<typeof useDirectorLive>;
  onAction: (a: Action) => void;
}) {
  const zone = useTimeZone();
  const status = live.status;
  const snapshot = status?.snapshot ?? null;
  return (
    <div className="flex flex-wrap items-center gap-3">
      <h1 id="director-title" className="text-base font-semibold">
        Director {directorId}
      </h1>
      {clusterId && <span className="text-xs text-muted-foreground">cluster {clusterId}</span>}
      <ConnectionStatus state={live.state} since={live.since} onRetry={live.reset} />
      {status && <ReachabilityBadge status={status} />}
      {snapshot && (
        <span className="text-xs text-muted-foreground">
          poll {formatClock(snapshot.takenAt, zone)} · rules{" "}
          <span className="font-mono">{snapshot.version.slice(0, 12)}</span>
          {snapshot.ipvsadm &&
            ` · ipvsadm v${snapshot.ipvsadm.ipvsadm} (IPVS ${snapshot.ipvsadm.ipvs})`}{" "}
          · {formatCount(snapshot.connectionCount)} entries
        </span>
      )}
      <div className="ml-auto flex gap-2">
        <Link
          className={buttonVariants({ variant: "outline", size: "sm" })}
          href={`/directors/${encodeURIComponent(directorId)}/connections`}
        >
          Connections
        </Link>
        <Button size="sm" disabled={!clusterId} onClick={() => onAction({ kind: "serviceForm" })}>
          Add virtual service
        </Button>
      </div>
    </div>
  );
}

/** Why the last poll failed, with the trust step a HOST_KEY_UNKNOWN offers. */
export function DirectorErrors({
  directorId,
  live,
  onAction,
}: {
  directorId: string;
  live: ReturnType<typeof useDirectorLive>;
  onAction: (a: Action) => void;
}) {
  const status = live.status;
  const hostKeyFingerprint = trustableHostKey(status?.error)?.fingerprint ?? null;
  return (
    <>
      <LiveErrorAlert error={live.error} />
      {status?.error && (
        <div className="flex flex-col gap-1">
          <ConsoleErrorAlert
            error={status.error}
            title={`${directorId} is ${status.reachability}`}
          />
          {isJumpHostKey(status.error) && (
            <p className="text-sm text-muted-foreground" data-testid="jump-host-key-note">
              This is the key of the jump host in front of {directorId}. Jump host keys are not
              trusted from the console: an administrator adds it to the jump host&apos;s
              knownHostsPath or pins it as jumpHost.hostKeyFingerprint in lvs-console.yaml.
            </p>
          )}
          {hostKeyFingerprint && (
            <div>
              <Button
                size="sm"
                onClick={() => onAction({ kind: "trust", fingerprint: hostKeyFingerprint })}
              >
                Review host key…
              </Button>
            </div>
          )}
        </div>
      )}
    </>
  );
}
