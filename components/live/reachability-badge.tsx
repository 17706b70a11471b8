import type { DirectorStatus } from "@/server/live/types";
import { Badge } from "@/components/ui/badge";
import { formatClock } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";

export function ReachabilityBadge({ status }: { status: Omit<DirectorStatus, "snapshot"> }) {
  const zone = useTimeZone();
  if (status.reachability === "live") return <Badge variant="ok">reachable</Badge>;
  if (status.reachability === "connecting") return <Badge variant="warn">connecting</Badge>;
  if (status.reachability === "stale")
    return (
      <Badge variant="warn" title="the last poll before nobody watched; a fresh one is on its way">
        stale
        {status.lastSuccessAt !== null && (
          <span className="font-normal">· from {formatClock(status.lastSuccessAt, zone)}</span>
        )}
      </Badge>
    );
  return (
    <Badge variant="danger" title={status.error?.message}>
      unreachable
      {status.lastSuccessAt !== null && (
        <span className="font-normal">· since {formatClock(status.lastSuccessAt, zone)}</span>
      )}
    </Badge>
  );
}
