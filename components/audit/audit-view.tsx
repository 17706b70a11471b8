"use client";
import { useQueries } from "@tanstack/react-query";
import { Fragment, useDeferredValue, useState } from "react";
import { errorMessage } from "@/components/errors";
import { formatDateTime } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { useTRPC, type ApplyDirectorResult, type RouterOutputs } from "@/components/trpc";
import type { HeldAfterInterruption } from "@/server/db/audit";
import { formatServiceKey } from "@/server/ipvs/model";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/input";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";

const RESULTS = [
  "ok",
  "failed",
  "refused",
  "conflict",
  "partial",
  "pending",
  "interrupted",
] as const;
type ResultFilter = (typeof RESULTS)[number] | "";

const RESULT_VARIANT = {
  ok: "ok",
  failed: "danger",
  refused: "warn",
  conflict: "warn",
  partial: "danger",
  pending: "info",
  interrupted: "danger",
} as const;

type StepResult = ApplyDirectorResult["steps"][number];

/**
 * A director's result as an audit entry's details hold it (the apply's results, read from
 * stored JSON): `verified` may be absent, and viewers get no command output (no `stderr`).
 */
type DirectorResultView = Pick<ApplyDirectorResult, "directorId" | "ok" | "error"> &
  Partial<Pick<ApplyDirectorResult, "verified">> & {
    steps: Array<Pick<StepResult, "argv" | "exitCode"> & Partial<Pick<StepResult, "stderr">>>;
  };

function resultsOf(details: unknown): DirectorResultView[] {
  if (typeof details !== "object" || details === null) return [];
  const r = (details as { results?: unknown }).results ?? details;
  if (!Array.isArray(r)) return [];
  return r.filter(
    (x): x is DirectorResultView =>
      typeof x === "object" && x !== null && "directorId" in x && "steps" in x,
  );
}

type AuditEntryView = RouterOutputs["audit"]["list"]["entries"][number];

/** What an interrupted attempt's directors held at the next start (server/directors/interrupted.ts). */
function interruptedOf(details: unknown): HeldAfterInterruption[] | null {
  if (typeof details !== "object" || details === null || !("interrupted" in details)) return null;
  const directors = (details as { interrupted: { directors?: unknown } }).interrupted.directors;
  if (!Array.isArray(directors)) return [];
  return directors.filter(
    (x): x is HeldAfterInterruption =>
      typeof x === "object" && x !== null && "directorId" in x && "read" in x,
  );
}

function Interrupted({ entry }: { entry: AuditEntryView }) {
  const held = interruptedOf(entry.details) ?? [];
  return (
    <div className="mb-2 rounded bg-muted px-2 py-1" data-testid="audit-interrupted">
      <p className="font-medium text-danger">
        Interrupted: the console stopped before this finished; whether its commands ran is not
        known.
      </p>
      {held.length === 0 ? (
        <p className="text-muted-foreground">Reading the directors…</p>
      ) : (
        <ul>
          {held.map((h) => {
            const services = entry.after?.[h.directorId]?.services ?? [];
            return (
              <li key={h.directorId} data-held-director={h.directorId}>
                <b>{h.directorId}</b>{" "}
                {h.read
                  ? `holds now (version ${h.version ?? "?"}): ${
                      services
                        .map(
                          (svc) =>
                            `${formatServiceKey(svc.key)} → ${
                              svc.realservers
                                .map((rs) => `${rs.address}:${rs.port} w${rs.weight}`)
                                .join(", ") || "no realservers"
                            }`,
                        )
                        .join("; ") || "none of the services it touched"
                    }`
                  : `unreachable: ${h.error?.message ?? "could not be read"}`}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

export function AuditView() {
  const zone = useTimeZone();
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const [user, setUser] = useState("");
  const [directorId, setDirectorId] = useState("");
  const [result, setResult] = useState<ResultFilter>("");
  const [open, setOpen] = useState<Set<number>>(new Set());
  // Id-cursor pages ("before"): the first page refreshes, older pages do not change.
  const [cursors, setCursors] = useState<number[]>([]);
  const filterKey = `${text}|${user}|${directorId}|${result}`;
  const [lastFilterKey, setLastFilterKey] = useState(filterKey);
  if (lastFilterKey !== filterKey) {
    setLastFilterKey(filterKey);
    setCursors([]);
  }
  const filter = useDeferredValue({
    text: text.trim() || undefined,
    user: user.trim() || undefined,
    directorId: directorId.trim() || undefined,
    result: result || undefined,
    limit: 100,
  });
  const pages = useQueries({
    queries: [undefined, ...cursors].map((before) =>
      trpc.audit.list.queryOptions(
        { ...filter, before },
        { refetchInterval: before === undefined ? 10_000 : false },
      ),
    ),
  });
  const first = pages[0];
  const lastPage = pages[pages.length - 1];
  const nextCursor = lastPage?.data?.nextCursor ?? null;
  const entries = pages.flatMap((p) => p.data?.entries ?? []);
  const list = {
    error: pages.find((p) => p.error)?.error ?? null,
    isPending: first?.isPending ?? true,
    hasNextPage: nextCursor !== null,
    isFetchingNextPage: lastPage?.isFetching ?? false,
    fetchNextPage: () => {
      if (nextCursor !== null) setCursors((c) => (c.includes(nextCursor) ? c : [...c, nextCursor]));
    },
  };

  return (
    <section className="flex flex-col gap-3" aria-labelledby="audit-title">
      <h1 id="audit-title" className="text-base font-semibold">
        Audit log
      </h1>
      <form
        className="flex flex-wrap items-end gap-3"
        role="search"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field label="Text (summary, commands, errors)" className="w-72">
          {(p) => (
            <Input {...p} name="text" value={text} onChange={(e) => setText(e.target.value)} />
          )}
        </Field>
        <Field label="User" className="w-36">
          {(p) => (
            <Input {...p} name="user" value={user} onChange={(e) => setUser(e.target.value)} />
          )}
        </Field>
        <Field label="Director" className="w-36">
          {(p) => (
            <Input
              {...p}
              name="director"
              value={directorId}
              onChange={(e) => setDirectorId(e.target.value)}
            />
          )}
        </Field>
        <Field label="Result" className="w-32">
          {(p) => (
            <Select
              {...p}
              name="result"
              value={result}
              onChange={(e) => setResult(e.target.value as ResultFilter)}
            >
              <option value="">any</option>
              {RESULTS.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </form>
      {list.error && (
        <Alert>
          <AlertTitle>Could not read the audit log</AlertTitle>
          <AlertDescription>{errorMessage(list.error)}</AlertDescription>
        </Alert>
      )}
      <div className="rounded-md border bg-card">
        <Table aria-label="Audit entries">
          <TableHeader>
            <TableRow>
              <TableHead className="w-7">
                <span className="sr-only">Expand</span>
              </TableHead>
              <TableHead className="w-14 text-right">#</TableHead>
              <TableHead className="w-36">Started</TableHead>
              <TableHead className="w-24">User</TableHead>
              <TableHead className="w-28">Action</TableHead>
              <TableHead className="w-32">Directors</TableHead>
              <TableHead>Summary</TableHead>
              <TableHead className="w-20">Result</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {list.isPending && (
              <TableRow>
                <TableCell colSpan={8} className="text-muted-foreground">
                  Loading…
                </TableCell>
              </TableRow>
            )}
            {!list.isPending && entries.length === 0 && (
              <TableRow>
                <TableCell colSpan={8} className="text-muted-foreground">
                  No entries match.
                </TableCell>
              </TableRow>
            )}
            {entries.map((e) => {
              const expanded = open.has(e.id);
              const results = resultsOf(e.details);
              return (
                <Fragment key={e.id}>
                  <TableRow data-audit-id={e.id}>
                    <TableCell>
                      <Button
                        variant="ghost"
                        size="xs"
                        aria-expanded={expanded}
                        aria-label={`${expanded ? "Hide" : "Show"} commands of entry ${e.id}`}
                        onClick={() =>
                          setOpen((s) => {
                            const n = new Set(s);
                            if (expanded) n.delete(e.id);
                            else n.add(e.id);
                            return n;
                          })
                        }
                      >
                        {expanded ? "▾" : "▸"}
                      </Button>
                    </TableCell>
                    <TableCell className="num">{e.id}</TableCell>
                    <TableCell className="whitespace-nowrap">
                      {formatDateTime(e.startedAt, zone)}
                    </TableCell>
                    <TableCell>{e.user}</TableCell>
                    <TableCell className="font-mono">{e.action}</TableCell>
                    <TableCell className="truncate">{e.directors.join(", ")}</TableCell>
                    <TableCell className="max-w-0 truncate" title={e.summary}>
                      {e.summary}
                    </TableCell>
                    <TableCell>
                      <Badge variant={RESULT_VARIANT[e.result]}>{e.result}</Badge>
                    </TableCell>
                  </TableRow>
                  {expanded && (
                    <TableRow className="hover:bg-transparent">
                      <TableCell />
                      <TableCell colSpan={7} className="py-2">
                        {e.result === "interrupted" && <Interrupted entry={e} />}
                        {e.error && (
                          <p className="mb-1 text-danger">
                            {e.error.code}: {e.error.message}
                          </p>
                        )}
                        {Object.entries(e.commands).map(([director, cmds]) => {
                          const r = results.find((x) => x.directorId === director);
                          return (
                            <div key={director} className="mb-2">
                              <p className="font-medium">
                                {director}{" "}
                                {r && (
                                  <Badge variant={r.ok ? "ok" : "danger"}>
                                    {r.ok
                                      ? r.verified === false
                                        ? "not verified"
                                        : "ok"
                                      : "failed"}
                                  </Badge>
                                )}
                              </p>
                              <ol className="font-mono">
                                {cmds.map((command, i) => {
                                  const step = r?.steps[i];
                                  return (
                                    <li key={i} className="flex gap-2">
                                      <span className="text-muted-foreground">$</span>
                                      <span className="flex-1 break-all">{command}</span>
                                      {step && (
                                        <span
                                          className={
                                            step.exitCode === 0 ? "text-ok" : "text-danger"
                                          }
                                        >
                                          exit {step.exitCode ?? "—"}
                                        </span>
                                      )}
                                    </li>
                                  );
                                })}
                              </ol>
                              {r?.steps
                                .filter((s) => s.stderr)
                                .map((s, i) => (
                                  <pre
                                    key={i}
                                    className="mt-1 rounded bg-muted px-2 py-1 whitespace-pre-wrap text-danger"
                                  >
                                    {s.stderr}
                                  </pre>
                                ))}
                              {r?.error && (
                                <p className="text-danger">
                                  {r.error.code}: {r.error.message}
                                </p>
                              )}
                            </div>
                          );
                        })}
                      </TableCell>
                    </TableRow>
                  )}
                </Fragment>
              );
            })}
          </TableBody>
        </Table>
      </div>
      {list.hasNextPage && (
        <div>
          <Button
            variant="outline"
            size="sm"
            disabled={list.isFetchingNextPage}
            onClick={list.fetchNextPage}
          >
            {list.isFetchingNextPage ? "Loading…" : "Older entries"}
          </Button>
        </div>
      )}
    </section>
  );
}
