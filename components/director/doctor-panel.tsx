"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Finding, Severity } from "@/server/ipvs/doctor";
import { errorMessage } from "@/components/errors";
import { useTRPC, useTRPCClient } from "@/components/trpc";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { formatClock } from "@/components/format";
import { useTimeZone } from "@/components/time-zone";
import { DoctorFixDialog, fixableCode } from "./doctor-fix-dialog";

const GROUPS: Array<{ severity: Severity; title: string; badge: "danger" | "warn" | "info" }> = [
  { severity: "error", title: "Errors", badge: "danger" },
  { severity: "warn", title: "Warnings", badge: "warn" },
  { severity: "info", title: "Notes", badge: "info" },
];

/**
 * The NAT-mode doctor of one director: the last report (from the poller's full reads, no
 * SSH work of its own), a "Check now", and each finding with its evidence and fix.
 */
export function DoctorPanel({ directorId }: { directorId: string }) {
  const zone = useTimeZone();
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const lastKey = trpc.doctor.last.queryKey({ directorId });
  const last = useQuery(trpc.doctor.last.queryOptions({ directorId }, { refetchInterval: 5_000 }));
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | null>(null);
  const [fixing, setFixing] = useState<Finding | null>(null);
  const fixCode = fixing ? fixableCode(fixing.code) : null;
  const report = last.data?.report ?? null;

  async function checkNow() {
    setChecking(true);
    setCheckError(null);
    try {
      await client.doctor.check.query({ directorId });
      await queryClient.invalidateQueries({ queryKey: lastKey });
    } catch (e) {
      setCheckError(errorMessage(e));
    } finally {
      setChecking(false);
    }
  }

  return (
    <section
      className="rounded-md border bg-card p-3"
      aria-labelledby="doctor-title"
      data-testid="doctor-panel"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h2 id="doctor-title" className="text-sm font-semibold">
          Doctor
        </h2>
        {report && (
          <span className="text-xs text-muted-foreground">
            checked {formatClock(report.at, zone)} ·{" "}
            {report.findings.length === 0
              ? "nothing wrong found"
              : `${report.findings.length} finding(s)`}
          </span>
        )}
        {!report && !last.isLoading && (
          <span className="text-xs text-muted-foreground">not checked yet</span>
        )}
        <Button
          size="sm"
          variant="outline"
          className="ml-auto"
          disabled={checking}
          onClick={() => void checkNow()}
        >
          {checking ? "Checking…" : "Check now"}
        </Button>
      </div>
      {(checkError ?? last.data?.error?.message) && (
        <Alert className="mt-2">{checkError ?? last.data?.error?.message}</Alert>
      )}
      {report &&
        GROUPS.map((g) => {
          const findings = report.findings.filter((f) => f.severity === g.severity);
          if (findings.length === 0) return null;
          return (
            <div key={g.severity} className="mt-3" data-severity={g.severity}>
              <h3 className="mb-1 flex items-center gap-2 text-xs font-semibold uppercase text-muted-foreground">
                {g.title} <Badge variant={g.badge}>{findings.length}</Badge>
              </h3>
              <ul className="flex flex-col gap-2">
                {findings.map((f) => (
                  <FindingItem
                    key={`${f.code} ${f.subject.name}`}
                    finding={f}
                    badge={g.badge}
                    onFix={() => setFixing(f)}
                  />
                ))}
              </ul>
            </div>
          );
        })}
      {fixing && fixCode && (
        <DoctorFixDialog
          directorId={directorId}
          finding={{ ...fixing, code: fixCode }}
          onOpenChange={(open) => {
            if (!open) setFixing(null);
          }}
          onApplied={() => void queryClient.invalidateQueries({ queryKey: lastKey })}
        />
      )}
    </section>
  );
}

function FindingItem({
  finding,
  badge,
  onFix,
}: {
  finding: Finding;
  badge: "danger" | "warn" | "info";
  onFix: () => void;
}) {
  const fix = finding.fix;
  return (
    <li
      className="rounded border px-2 py-1.5 text-sm"
      data-finding={finding.code}
      data-subject={finding.subject.name}
    >
      <div className="flex flex-wrap items-center gap-2">
        <Badge variant={badge}>{finding.code}</Badge>
        <span className="font-mono text-xs">{finding.subject.name}</span>
      </div>
      <p className="mt-1">{finding.message}</p>
      <details className="mt-1">
        <summary className="cursor-pointer text-xs text-muted-foreground">
          What the doctor saw
        </summary>
        <ul className="mt-1 font-mono text-xs">
          {finding.evidence.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      </details>
      {fix?.where === "realserver" && (
        <div className="mt-1 text-xs" data-testid="realserver-fix">
          <span className="font-semibold">
            On the realserver (the console has no access there):{" "}
          </span>
          {fix.summary}
          {fix.commands.length > 0 && (
            <pre className="mt-1 rounded bg-muted px-2 py-1 font-mono">
              {fix.commands.join("\n")}
            </pre>
          )}
        </div>
      )}
      {fix?.where === "director" && (
        <div className="mt-1 flex items-center gap-2 text-xs">
          <span>{fix.summary}</span>
          <Button size="sm" onClick={onFix}>
            Review fix…
          </Button>
        </div>
      )}
    </li>
  );
}
