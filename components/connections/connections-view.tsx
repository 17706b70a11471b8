"use client";
import { keepPreviousData, useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { formatEndpoint, type ConnectionEntry } from "@/server/ipvs/model";
import { errorMessage } from "@/components/errors";
import { formatClock, formatCount, formatExpiry } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { useTRPC } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { ConnectionStatus } from "@/components/ui/connection-status";
import { Field, Input, Select } from "@/components/ui/input";
import {
  CONNECTION_STATES,
  connectionFilterSchema,
  type ConnectionFilterInput,
} from "@/server/ipvs/connections-filter";
import { fieldErrors } from "@/components/changes/form-utils";
import { cn } from "@/components/cn";

export const PAGE_SIZE = 200;
const ROW_HEIGHT = 24;
/** How often the browser asks for the latest read (the server reads at its own pace). */
const POLL_MS = 2_000;

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

type Kind = "all" | "connections" | "templates";

const COLS =
  "grid grid-cols-[56px_112px_64px_minmax(150px,1fr)_minmax(150px,1fr)_minmax(150px,1fr)_72px]";

/**
 * The connection table, filtered and counted by the server on its last read of the director's
 * table: the browser only ever holds the pages under the viewport, so 100k entries scroll
 * like 100, and a filter answers in milliseconds (no debounce: every valid keystroke asks).
 * Pausing pins the read on screen: scrolling a paused view pages through that same read.
 */
export function ConnectionsView({ directorId }: { directorId: string }) {
  const zone = useTimeZone();
  const trpc = useTRPC();
  const [state, setState] = useState("");
  const [client, setClient] = useState("");
  const [realserver, setRealserver] = useState("");
  const [service, setService] = useState("");
  const [kind, setKind] = useState<Kind>("all");
  // The read on screen when the operator paused; its pages keep coming from it.
  const [pausedRead, setPausedRead] = useState<number | null>(null);
  const paused = pausedRead !== null;
  const filterNow: ConnectionFilterInput = {
    state: state || undefined,
    client: client.trim() || undefined,
    realserver: realserver.trim() || undefined,
    service: service.trim() || undefined,
    templates: kind === "all" ? undefined : kind === "templates",
  };
  // The router's own schema, as you type: a filter it would refuse is never sent.
  const check = connectionFilterSchema.safeParse(filterNow);
  const errors = fieldErrors(check.error);
  const [lastValid, setLastValid] = useState<ConnectionFilterInput>({});
  const validKey = JSON.stringify(filterNow);
  const [lastValidKey, setLastValidKey] = useState("{}");
  if (check.success && validKey !== lastValidKey) {
    setLastValidKey(validKey);
    setLastValid(filterNow);
  }
  const filter = lastValid;
  const filterKey = JSON.stringify(filter);

  const scrollRef = useRef<HTMLDivElement>(null);
  const [matchedCount, setMatchedCount] = useState(0);
  const virtualizer = useVirtualizer({
    count: matchedCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const firstPage = Math.floor((items[0]?.index ?? 0) / PAGE_SIZE);
  const lastPage = Math.floor((items[items.length - 1]?.index ?? 0) / PAGE_SIZE);
  const pageIndexes: number[] = [];
  for (let p = firstPage; p <= lastPage; p++) pageIndexes.push(p);

  const pages = useQueries({
    queries: pageIndexes.map((p) =>
      trpc.connections.list.queryOptions(
        {
          directorId,
          filter,
          offset: p * PAGE_SIZE,
          limit: PAGE_SIZE,
          ...(pausedRead === null ? {} : { readId: pausedRead }),
        },
        {
          refetchInterval: paused ? false : POLL_MS,
          placeholderData: keepPreviousData,
          staleTime: paused ? Infinity : 1_000,
          retry: false,
        },
      ),
    ),
  });
  const head = pages[0]?.data;
  const error = pages.find((p) => p.error)?.error ?? null;
  const fetching = pages.some((p) => p.isFetching);
  const read = head?.read;
  const queryClient = useQueryClient();
  const readNow = useMutation(
    trpc.connections.readNow.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.connections.list.pathFilter()),
    }),
  );
  // A paused view will not show the read that runs: it says so by the disabled button alone.
  const reading = !paused && (readNow.isPending || (read?.reading ?? false));

  useEffect(() => {
    if (head) setMatchedCount(head.matched);
  }, [head]);
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [filterKey]);

  function rowAt(i: number): ConnectionEntry | undefined {
    const p = Math.floor(i / PAGE_SIZE);
    return pages[p - firstPage]?.data?.entries[i - p * PAGE_SIZE];
  }

  const counts = Object.entries(head?.countsByState ?? {}).sort((a, b) => b[1] - a[1]);
  const liveState =
    error || read?.error ? "stale" : paused ? "paused" : head ? "live" : "connecting";

  return (
    <section className="flex flex-col gap-2" aria-labelledby="conn-title">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="conn-title" className="text-base font-semibold">
          Connections on{" "}
          <Link
            className="text-primary hover:underline"
            href={`/directors/${encodeURIComponent(directorId)}`}
          >
            {directorId}
          </Link>
        </h1>
        <ConnectionStatus state={liveState} since={read?.takenAt ?? null} />
        <Button
          size="sm"
          variant="outline"
          aria-pressed={paused}
          disabled={!read}
          onClick={() => setPausedRead(paused ? null : (read?.readId ?? null))}
        >
          {paused ? "Resume" : "Pause"}
        </Button>
        <Button
          size="sm"
          variant="outline"
          disabled={paused || reading}
          onClick={() => readNow.mutate({ directorId })}
          title="Read the director's table now instead of at the next scheduled read"
        >
          {reading ? "Reading…" : "Read now"}
        </Button>
        <span
          className="text-xs text-muted-foreground"
          aria-live="polite"
          data-testid="conn-counts"
        >
          {head ? (
            <>
              <b className="num" data-testid="conn-matched">
                {formatCount(head.matched)}
              </b>{" "}
              of <span className="num">{formatCount(head.total)}</span> entries · read{" "}
              {formatClock(head.read.takenAt, zone)} in{" "}
              <span className="num" data-testid="conn-read-ms">
                {formatSeconds(head.read.readMs)}
              </span>
              {head.read.nextReadAt !== null && !paused && (
                <> · next read {formatClock(head.read.nextReadAt, zone)}</>
              )}
            </>
          ) : (
            "reading…"
          )}
          <span className={cn("ml-2 inline-block w-16", fetching ? "" : "invisible")}>
            updating
          </span>
        </span>
      </div>

      <form
        className="flex flex-wrap items-end gap-3"
        role="search"
        aria-label="Filter connections"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field label="Client (address or prefix)" className="w-52" error={errors.client}>
          {(p) => (
            <Input
              {...p}
              name="client"
              value={client}
              onChange={(e) => setClient(e.target.value)}
              placeholder="203.0.113.0/24"
            />
          )}
        </Field>
        <Field label="Realserver (addr or addr:port)" className="w-52" error={errors.realserver}>
          {(p) => (
            <Input
              {...p}
              name="realserver"
              value={realserver}
              onChange={(e) => setRealserver(e.target.value)}
              placeholder="10.10.0.11:80"
            />
          )}
        </Field>
        <Field label="Service" className="w-56" error={errors.service}>
          {(p) => (
            <Input
              {...p}
              name="service"
              value={service}
              onChange={(e) => setService(e.target.value)}
              placeholder="TCP 203.0.113.10:80"
            />
          )}
        </Field>
        <Field label="State" className="w-40">
          {(p) => (
            <Select {...p} name="state" value={state} onChange={(e) => setState(e.target.value)}>
              <option value="">any</option>
              {CONNECTION_STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Entries" className="w-56">
          {(p) => (
            <Select
              {...p}
              name="kind"
              value={kind}
              onChange={(e) => setKind(e.target.value as Kind)}
            >
              <option value="all">connections + templates</option>
              <option value="connections">connections only</option>
              <option value="templates">persistence templates only</option>
            </Select>
          )}
        </Field>
      </form>

      <div role="group" className="flex min-h-6 flex-wrap gap-1" aria-label="Entries per state">
        {counts.map(([s, n]) => (
          <Button
            key={s}
            size="xs"
            variant={state === s ? "default" : "outline"}
            aria-pressed={state === s}
            onClick={() => setState(state === s ? "" : s)}
            data-state-count={s}
          >
            {s} <span className="num">{formatCount(n)}</span>
          </Button>
        ))}
      </div>

      {(error ?? readNow.error) && (
        <Alert>
          <AlertTitle>Could not read the connection table</AlertTitle>
          <AlertDescription>{errorMessage(error ?? readNow.error)}</AlertDescription>
        </Alert>
      )}
      {!error && read?.error && (
        <Alert>
          <AlertTitle>
            The last read of the connection table failed; showing the read of{" "}
            {formatClock(read.takenAt, zone)}
          </AlertTitle>
          <AlertDescription>{read.error.message}</AlertDescription>
        </Alert>
      )}

      <div
        role="table"
        aria-label="Connection entries"
        aria-rowcount={matchedCount + 1}
        className="rounded-md border bg-card text-xs"
      >
        <div role="rowgroup">
          <div
            role="row"
            className={cn(
              COLS,
              "h-7 items-center border-b bg-muted/60 px-2 font-medium text-muted-foreground",
            )}
          >
            <span role="columnheader">Proto</span>
            <span role="columnheader">State</span>
            <span role="columnheader" className="text-right">
              Expires
            </span>
            <span role="columnheader" className="pl-4">
              Client
            </span>
            <span role="columnheader">Virtual</span>
            <span role="columnheader">Realserver</span>
            <span role="columnheader">Kind</span>
          </div>
        </div>
        <div
          ref={scrollRef}
          role="rowgroup"
          className="h-[calc(100vh-290px)] min-h-60 overflow-auto"
          tabIndex={0}
          aria-label="Scrollable entries"
        >
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {items.map((v) => {
              const e = rowAt(v.index);
              return (
                <div
                  key={v.key}
                  role="row"
                  aria-rowindex={v.index + 2}
                  className={cn(
                    COLS,
                    "absolute left-0 w-full items-center border-b px-2 font-mono hover:bg-muted/40",
                  )}
                  style={{ height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                  data-conn-row
                >
                  {e ? (
                    <>
                      <span role="cell">{e.protocol}</span>
                      <span role="cell">{e.state}</span>
                      <span role="cell" className="num">
                        {formatExpiry(e.expiresSeconds)}
                      </span>
                      <span role="cell" className="truncate pl-4">
                        {formatEndpoint(e.client)}
                      </span>
                      <span role="cell" className="truncate">
                        {formatEndpoint(e.virtual)}
                      </span>
                      <span role="cell" className="truncate">
                        {formatEndpoint(e.destination)}
                      </span>
                      <span role="cell" className="text-muted-foreground">
                        {e.template ? "template" : "conn"}
                      </span>
                    </>
                  ) : (
                    <span role="cell" className="col-span-7 text-muted-foreground">
                      …
                    </span>
                  )}
                </div>
              );
            })}
          </div>
          {head && matchedCount === 0 && (
            <p className="p-3 text-muted-foreground">No entries match.</p>
          )}
        </div>
      </div>
    </section>
  );
}
