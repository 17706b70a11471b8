"use client";
import { useQuery } from "@tanstack/react-query";
import { memo, useState } from "react";
import type { DirectorStatus } from "@/components/trpc";
import { useTRPC } from "@/components/trpc";
import { OwnerActionDialog, type OwnerAction } from "@/components/changes/owner-action-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";

type RulesFile = NonNullable<NonNullable<DirectorStatus["snapshot"]>["owner"]>["rulesFile"];

/**
 * The pair kept identical: what differs between this director and the other one of its
 * cluster (per service and realserver; per virtual_server block of their keepalived
 * configs), with "make B like A" either way; and this director's boot rules file, with
 * "Save running rules" and "Restore saved rules".
 */
export const PairPanel = memo(function PairPanel({
  directorId,
  clusterId,
  rulesFile,
}: {
  directorId: string;
  clusterId: string;
  /** The owner view's rules file (the same object while it does not change). */
  rulesFile: RulesFile | null;
}) {
  const trpc = useTRPC();
  const [action, setAction] = useState<OwnerAction | null>(null);
  const diff = useQuery(
    trpc.pair.diff.queryOptions({ clusterId }, { staleTime: 10_000, retry: false }),
  );
  const d = diff.data ?? null;
  if (diff.isSuccess && d === null && !rulesFile?.bootLoads) return null;
  return (
    <section
      id="pair"
      aria-label="Pair"
      className="flex flex-col gap-2 rounded-md border bg-card p-3 text-sm"
      data-testid="pair-panel"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="font-semibold">Pair</h2>
        {d && (
          <Badge variant={d.identical ? "ok" : "warn"} data-testid="pair-state">
            {d.identical
              ? `${d.a} and ${d.b} hold the same rules`
              : `${d.a} and ${d.b} differ: ${d.count}`}
          </Badge>
        )}
        <Button size="xs" variant="outline" onClick={() => void diff.refetch()}>
          Compare again
        </Button>
        {d && !d.identical && (
          <>
            <Button
              size="xs"
              data-testid="pair-make-b"
              onClick={() => setAction({ kind: "sync", clusterId, source: d.a, target: d.b })}
            >
              Make {d.b} like {d.a}
            </Button>
            <Button
              size="xs"
              variant="outline"
              data-testid="pair-make-a"
              onClick={() => setAction({ kind: "sync", clusterId, source: d.b, target: d.a })}
            >
              Make {d.a} like {d.b}
            </Button>
          </>
        )}
        {rulesFile?.bootLoads && (
          <>
            <Button
              size="xs"
              variant="outline"
              data-testid="rules-save"
              onClick={() => setAction({ kind: "rules", directorId, action: "save" })}
            >
              Save running rules
            </Button>
            <Button
              size="xs"
              variant="outline"
              data-testid="rules-restore"
              onClick={() => setAction({ kind: "rules", directorId, action: "restore" })}
            >
              Restore saved rules
            </Button>
          </>
        )}
      </div>
      {diff.isPending && <p className="text-xs text-muted-foreground">Comparing…</p>}
      {diff.error && (
        <p role="alert" className="text-xs text-danger">
          {diff.error.message}
        </p>
      )}
      {d && d.rules.length > 0 && (
        <Table aria-label="Differences per rule" data-testid="pair-rules">
          <TableHeader>
            <TableRow>
              <TableHead className="w-56">Virtual service</TableHead>
              <TableHead className="w-40">Realserver</TableHead>
              <TableHead className="w-32">What</TableHead>
              <TableHead className="w-32">{d.a}</TableHead>
              <TableHead className="w-32">{d.b}</TableHead>
              <TableHead>Note</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {d.rules.map((r) => (
              <TableRow key={r.text} data-pair-rule={r.text}>
                <TableCell className="font-mono">{r.service}</TableCell>
                <TableCell className="font-mono">{r.realserver ?? "—"}</TableCell>
                <TableCell>{r.field}</TableCell>
                <TableCell className="font-mono">{r.a ?? "absent"}</TableCell>
                <TableCell className="font-mono">{r.b ?? "absent"}</TableCell>
                <TableCell className={r.explained ? "text-muted-foreground" : "text-warn"}>
                  {r.explained ?? "differs"}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {d?.blocks
        .filter((b) => b.status !== "same")
        .map((b) => (
          <div key={b.name} data-pair-block={b.name} data-status={b.status}>
            <p className="text-xs font-medium">
              keepalived virtual_server {b.name}:{" "}
              {b.status === "differs"
                ? "the blocks differ"
                : b.status === "only-source"
                  ? `only in ${d.a}'s config`
                  : `only in ${d.b}'s config`}
            </p>
            <div className="grid grid-cols-2 gap-2">
              {[b.source, b.target].map((side, i) => (
                <pre
                  key={i}
                  className="overflow-x-auto rounded bg-muted p-2 text-xs"
                  aria-label={`${i === 0 ? d.a : d.b}'s block`}
                >
                  {side ? `# ${side.file}:${side.line}\n${side.text}` : "(none)"}
                </pre>
              ))}
            </div>
          </div>
        ))}
      {action && (
        <OwnerActionDialog
          action={action}
          onOpenChange={(open) => {
            if (!open) {
              setAction(null);
              void diff.refetch();
            }
          }}
        />
      )}
    </section>
  );
});
