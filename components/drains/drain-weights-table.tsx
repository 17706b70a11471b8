"use client";
/** Per director and service of a drain: the weight to put back, and the connections still left. */
import { formatServiceKey, sameServiceKey } from "@/server/ipvs/model";
import type { DrainProgress } from "@/components/trpc";
import { formatCount } from "@/components/format";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import type { Original } from "./drain-target";

export function DrainWeightsTable({
  original,
  latest,
}: {
  original: readonly Original[];
  latest: DrainProgress | undefined;
}) {
  return (
    <div className="rounded-md border bg-card">
      <Table aria-label="Recorded weights and remaining connections">
        <TableHeader>
          <TableRow>
            <TableHead>Director</TableHead>
            <TableHead>Service</TableHead>
            <TableHead className="text-right">Old weight</TableHead>
            <TableHead className="text-right">Active</TableHead>
            <TableHead className="text-right">Inactive</TableHead>
            <TableHead className="text-right">Persistent</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {original.map((o, i) => {
            const s = latest?.perDirector
              .find((x) => x.directorId === o.directorId)
              ?.services.find((x) => sameServiceKey(x.service, o.service));
            return (
              <TableRow key={i}>
                <TableCell>{o.directorId}</TableCell>
                <TableCell className="font-mono">
                  {formatServiceKey(o.service)} → :{o.port}
                </TableCell>
                <TableCell className="num">{o.weight}</TableCell>
                <TableCell className="num">{s ? formatCount(s.activeConns) : "—"}</TableCell>
                <TableCell className="num">{s ? formatCount(s.inactiveConns) : "—"}</TableCell>
                <TableCell className="num">
                  {s?.persistentConns == null ? "—" : formatCount(s.persistentConns)}
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </div>
  );
}
