"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatServiceKey } from "@/server/ipvs/model";
import { DrainDialog } from "@/components/changes/drain-dialog";
import { UndrainDialog } from "@/components/drains/drain-dialogs";
import { formatCount } from "@/components/format";
import { useFleetLive } from "@/components/live/use-fleet";
import { LiveErrorAlert } from "@/components/live/live-error-alert";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConnectionStatus } from "@/components/ui/connection-status";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";

/** One host across every service it serves, on every director of every cluster. */
export function RealserverView({ address }: { address: string }) {
  const trpc = useTRPC();
  const live = useFleetLive();
  const drains = useQuery(
    trpc.drains.list.queryOptions({ active: true }, { refetchInterval: 5_000 }),
  );
  const [drainIn, setDrainIn] = useState<string | null>(null);
  const [undrainId, setUndrainId] = useState<number | null>(null);
  const clusters = live.fleet?.clusters ?? [];
  const undrain = drains.data?.find((d) => d.id === undrainId);

  return (
    <section className="flex flex-col gap-3" aria-labelledby="rs-title">
      <div className="flex items-center gap-3">
        <h1 id="rs-title" className="text-base font-semibold">
          Realserver <span className="font-mono">{address}</span>
        </h1>
        <ConnectionStatus state={live.state} since={live.since} onRetry={live.reset} />
      </div>
      <LiveErrorAlert error={live.error} />
      {clusters.map((cluster) => {
        const rows = cluster.directors.flatMap((d) =>
          (d.snapshot?.services ?? []).flatMap((s) =>
            s.realservers
              .filter((r) => r.address === address)
              .map((r) => ({ directorId: d.directorId, service: s, r })),
          ),
        );
        if (rows.length === 0) return null;
        const drain = drains.data?.find(
          (d) => d.clusterId === cluster.id && d.realserver.address === address,
        );
        return (
          <section
            key={cluster.id}
            className="rounded-md border bg-card"
            aria-label={`In cluster ${cluster.name}`}
          >
            <div className="flex items-center gap-2 border-b px-3 py-1.5">
              <h2 className="text-sm font-semibold">{cluster.name}</h2>
              {drain ? (
                <>
                  <Link href={`/drains/${drain.id}`}>
                    <Badge variant="info" data-drain-state={drain.state}>
                      {drain.state}
                      {drain.realserver.port !== null ? ` (port ${drain.realserver.port})` : ""}
                    </Badge>
                  </Link>
                  <Button
                    size="sm"
                    variant="outline"
                    className="ml-auto"
                    onClick={() => setUndrainId(drain.id)}
                  >
                    Undrain
                  </Button>
                </>
              ) : (
                <Button
                  size="sm"
                  variant="outline"
                  className="ml-auto"
                  onClick={() => setDrainIn(cluster.id)}
                >
                  Drain {address} everywhere
                </Button>
              )}
            </div>
            <Table>
              <TableHeader>
                <TableRow>
                  <TableHead className="w-32">Director</TableHead>
                  <TableHead className="w-56">Virtual service</TableHead>
                  <TableHead className="w-16 text-right">Port</TableHead>
                  <TableHead className="w-16">Fwd</TableHead>
                  <TableHead className="w-16 text-right">Weight</TableHead>
                  <TableHead className="w-20 text-right">ActiveConn</TableHead>
                  <TableHead className="w-20 text-right">InActConn</TableHead>
                  <TableHead className="w-20 text-right">PersistConn</TableHead>
                  <TableHead className="w-24 text-right">Conns</TableHead>
                  <TableHead />
                </TableRow>
              </TableHeader>
              <TableBody>
                {rows.map(({ directorId, service, r }) => (
                  <TableRow key={`${directorId}|${formatServiceKey(service.key)}|${r.port}`}>
                    <TableCell>
                      <Link
                        className="text-primary hover:underline"
                        href={`/directors/${encodeURIComponent(directorId)}`}
                      >
                        {directorId}
                      </Link>
                    </TableCell>
                    <TableCell className="font-mono">{formatServiceKey(service.key)}</TableCell>
                    <TableCell className="num">{r.port}</TableCell>
                    <TableCell>{r.forward}</TableCell>
                    <TableCell className="num">{r.weight}</TableCell>
                    <TableCell className="num">{formatCount(r.activeConns)}</TableCell>
                    <TableCell className="num">{formatCount(r.inactiveConns)}</TableCell>
                    <TableCell className="num">
                      {r.persistentConns === null ? "—" : formatCount(r.persistentConns)}
                    </TableCell>
                    <TableCell className="num">{formatCount(r.counters?.conns)}</TableCell>
                    <TableCell />
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </section>
        );
      })}
      {live.fleet &&
        clusters.every((c) =>
          c.directors.every(
            (d) =>
              !d.snapshot?.services.some((s) => s.realservers.some((r) => r.address === address)),
          ),
        ) && (
          <p className="text-sm text-muted-foreground">No director sends clients to {address}.</p>
        )}
      {drainIn && (
        <DrainDialog
          clusterId={drainIn}
          realserver={{ address }}
          onOpenChange={(o) => !o && setDrainIn(null)}
        />
      )}
      {undrain && (
        <UndrainDialog
          drainId={undrain.id}
          clusterId={undrain.clusterId}
          realserver={undrain.realserver}
          original={undrain.original}
          onClose={() => setUndrainId(null)}
        />
      )}
    </section>
  );
}
