"use client";
import { useState, type ReactNode } from "react";
import type { SysctlSetting } from "@/server/ipvs/model";
import { formatServiceKey } from "@/server/ipvs/model";
import type { ApplyDirectorResult, ConsoleErrorData, PreviewResult } from "@/components/trpc";
import { consoleErrorOf, errorMessage, trustableHostKey } from "@/components/errors";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox } from "@/components/ui/input";
import { useToast } from "@/components/ui/toast";
import { ConflictDialog } from "./conflict-dialog";
import { ConsoleErrorAlert, ResultsAlert } from "./error-panel";
import { TrustHostKeyDialog } from "./trust-dialog";

export interface ApplyOutcome {
  ok: boolean;
  results: ApplyDirectorResult[];
}

export interface PreviewState {
  data: PreviewResult | undefined;
  error: unknown;
  isPending: boolean;
  isFetching: boolean;
  refetch: () => unknown;
}

function fixKey(f: SysctlSetting): string {
  return `${f.name}=${f.value}`;
}

/**
 * Every change goes through here: the exact commands per director and the preflight
 * warnings first, the apply only on an explicit click, then a toast or an error that stays.
 */
export function PlanDialog({
  open,
  onOpenChange,
  title,
  description,
  preview,
  applyLabel,
  destructive,
  onApply,
  onApplied,
  applyBlocked,
  children,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: ReactNode;
  preview: PreviewState;
  applyLabel: string;
  destructive?: boolean;
  onApply: (args: {
    versions: Record<string, string>;
    fixes: SysctlSetting[];
  }) => Promise<ApplyOutcome>;
  onApplied: (outcome: ApplyOutcome) => void;
  /** The caller still needs an answer from the operator (e.g. the rules file choice). */
  applyBlocked?: boolean;
  children?: ReactNode;
}) {
  const { toast } = useToast();
  const [fixes, setFixes] = useState<Record<string, SysctlSetting>>({});
  const [applying, setApplying] = useState(false);
  const [failure, setFailure] = useState<{
    error: ConsoleErrorData | null;
    message: string;
  } | null>(null);
  const [failedResults, setFailedResults] = useState<ApplyDirectorResult[] | null>(null);
  const [trust, setTrust] = useState<{ directorId: string; fingerprint: string } | null>(null);
  const [conflict, setConflict] = useState<Extract<ConsoleErrorData, { code: "CONFLICT" }> | null>(
    null,
  );
  const [trustDismissed, setTrustDismissed] = useState(false);

  const data = preview.data;
  const previewError = preview.error ? consoleErrorOf(preview.error) : null;
  const refused = data?.perDirector.filter((d) => !d.ok) ?? [];
  const runnable =
    data !== undefined &&
    refused.length === 0 &&
    data.perDirector.some((d) => d.ok && d.steps.length > 0);

  function handleError(err: unknown) {
    const c = consoleErrorOf(err);
    const key = trustableHostKey(c);
    if (key) setTrust(key);
    if (c?.code === "CONFLICT") setConflict(c);
    setFailure({ error: c, message: errorMessage(err) });
  }

  async function apply() {
    if (!data) return;
    setApplying(true);
    setFailure(null);
    setFailedResults(null);
    try {
      const outcome = await onApply({ versions: data.versions, fixes: Object.values(fixes) });
      if (outcome.ok) {
        toast({
          title: `${title}: applied`,
          description: `on ${outcome.results.map((r) => r.directorId).join(", ")}`,
        });
        onApplied(outcome);
      } else {
        setFailedResults(outcome.results);
        toast({
          title: `${title}: failed`,
          variant: "error",
          description: "see the details in the dialog",
        });
      }
    } catch (err) {
      handleError(err);
    } finally {
      setApplying(false);
    }
  }

  const shownPreviewError =
    previewError ??
    (preview.error
      ? { code: "INTERNAL" as const, message: errorMessage(preview.error), details: {} }
      : null);
  const trustShown = trust ?? (trustDismissed ? null : trustableHostKey(previewError));

  return (
    <>
      <Dialog
        open={open}
        onOpenChange={onOpenChange}
        title={title}
        description={description}
        footer={
          <>
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button
              variant={destructive ? "destructive" : "default"}
              disabled={!runnable || applying || preview.isFetching || applyBlocked === true}
              onClick={() => void apply()}
              data-testid="apply-change"
            >
              {applying ? "Applying…" : applyLabel}
            </Button>
          </>
        }
      >
        <div className="flex flex-col gap-3">
          {children}
          {preview.isPending && (
            <p className="text-xs text-muted-foreground">
              Planning against the directors&apos; current rules…
            </p>
          )}
          {shownPreviewError && (
            <ConsoleErrorAlert error={shownPreviewError} title="Could not plan the change" />
          )}
          {data?.perDirector.map((d) => (
            <section
              key={d.directorId}
              aria-label={`Commands on ${d.directorId}`}
              data-plan-director={d.directorId}
            >
              <h3 className="mb-1 text-xs font-semibold">
                {d.directorId}
                {data.versions[d.directorId] && (
                  <span className="ml-2 font-mono font-normal text-muted-foreground">
                    rules {data.versions[d.directorId]?.slice(0, 12)}
                  </span>
                )}
              </h3>
              {d.ok ? (
                d.steps.length === 0 ? (
                  <p className="text-xs text-muted-foreground">Nothing to do on this director.</p>
                ) : (
                  <ol className="flex flex-col gap-1">
                    {d.steps.map((s, i) => (
                      <li key={i}>
                        <pre
                          className="overflow-x-auto rounded bg-muted px-2 py-1 font-mono text-xs"
                          data-testid="plan-command"
                        >
                          {s.command}
                        </pre>
                        <p className="text-xs text-muted-foreground">{s.description}</p>
                      </li>
                    ))}
                  </ol>
                )
              ) : (
                <Alert>
                  <AlertTitle>Refused: {d.reason}</AlertTitle>
                  <AlertDescription>{d.message}</AlertDescription>
                </Alert>
              )}
            </section>
          ))}
          {data && data.warnings.length > 0 && (
            <section aria-label="Preflight warnings" className="flex flex-col gap-2">
              {data.warnings.map((w, i) => {
                const fix = w.fix;
                return (
                  <Alert key={i} variant="warning" data-warning={w.code}>
                    <AlertTitle>
                      {w.directorId} · {formatServiceKey(w.service)}
                    </AlertTitle>
                    <AlertDescription>
                      <p>{w.message}</p>
                      {fix && (
                        <label className="mt-1 flex items-center gap-1.5 font-medium">
                          <Checkbox
                            checked={fixKey(fix) in fixes}
                            onChange={(e) => {
                              const checked = e.currentTarget.checked;
                              setFixes((prev) => {
                                const next = { ...prev };
                                if (checked) next[fixKey(fix)] = fix;
                                else delete next[fixKey(fix)];
                                return next;
                              });
                            }}
                          />
                          also set net.ipv4.vs.{fix.name}={fix.value}
                        </label>
                      )}
                    </AlertDescription>
                  </Alert>
                );
              })}
            </section>
          )}
          {failure && !failedResults && (
            <ConsoleErrorAlert
              error={failure.error ?? { code: "INTERNAL", message: failure.message, details: {} }}
              title="Not applied"
            />
          )}
          {failedResults && <ResultsAlert results={failedResults} />}
        </div>
      </Dialog>
      {trustShown && (
        <TrustHostKeyDialog
          open
          directorId={trustShown.directorId}
          fingerprint={trustShown.fingerprint}
          onOpenChange={(o) => {
            if (!o) {
              setTrust(null);
              setTrustDismissed(true);
            }
          }}
          onTrusted={() => {
            setFailure(null);
            void preview.refetch();
          }}
        />
      )}
      {conflict && (
        <ConflictDialog
          open
          message={conflict.message}
          details={conflict.details}
          onOpenChange={(o) => {
            if (!o) setConflict(null);
          }}
          onReview={() => {
            setConflict(null);
            setFailure(null);
            void preview.refetch();
          }}
        />
      )}
    </>
  );
}
