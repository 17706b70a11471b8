"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useState } from "react";
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
export const DoctorPanel = memo(function DoctorPanel({ directorId }: { directorId: string }) {
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
              {byCode(findings).map(([code, same]) => (
                <FindingGroup
                  key={code}
                  code={code}
                  findings={same}
                  badge={g.badge}
                  onFix={setFixing}
                />
              ))}
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
});

/** Findings of one code, in the order the doctor reported them. */
function byCode(findings: Finding[]): Array<[string, Finding[]]> {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const same = groups.get(f.code);
    if (same) same.push(f);
    else groups.set(f.code, [f]);
  }
  return [...groups];
}

/**
 * Findings shown of one code before asking. A director with 1,000 unreachable realservers
 * has 1,000 findings of one kind: listed in full they were 180,000 px of page above the
 * services, and most of the page's first render.
 */
const FINDINGS_SHOWN = 5;

function FindingGroup({
  code,
  findings,
  badge,
  onFix,
}: {
  code: string;
  findings: Finding[];
  badge: "danger" | "warn" | "info";
  onFix: (f: Finding) => void;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? findings : findings.slice(0, FINDINGS_SHOWN);
  return (
    <div className="mb-2" data-finding-group={code}>
      <ul className="flex flex-col gap-2">
        {shown.map((f) => (
          <FindingItem
            key={`${f.code} ${f.subject.name}`}
            finding={f}
            badge={badge}
            onFix={() => onFix(f)}
          />
        ))}
      </ul>
      {findings.length > FINDINGS_SHOWN && (
        <Button
          size="xs"
          variant="outline"
          className="mt-1"
          aria-expanded={all}
          onClick={() => setAll(!all)}
        >
          {all
            ? `Show the first ${FINDINGS_SHOWN} ${code} findings`
            : `Show all ${findings.length} ${code} findings (${findings.length - FINDINGS_SHOWN} more: ${findings
                .slice(FINDINGS_SHOWN, FINDINGS_SHOWN + 3)
                .map((f) => f.subject.name)
                .join(", ")}${findings.length > FINDINGS_SHOWN + 3 ? ", …" : ""})`}
        </Button>
      )}
    </div>
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
