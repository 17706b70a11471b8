"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Finding } from "@/server/ipvs/doctor";
import { errorMessage } from "@/components/errors";
import { useTRPC, useTRPCClient, type RouterInputs, type RouterOutputs } from "@/components/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

type FixCode = RouterInputs["doctor"]["previewFix"]["code"];
type FixResult = RouterOutputs["doctor"]["commitFix"];

/** The findings the console can fix on the director (doctor.previewFix takes only these). */
export function fixableCode(code: Finding["code"]): FixCode | null {
  return code === "ip-forward-off" || code === "send-redirects-on" ? code : null;
}

/** A director fix: the exact commands and the sysctl.d file first, then apply and read back. */
export function DoctorFixDialog({
  directorId,
  finding,
  onOpenChange,
  onApplied,
}: {
  directorId: string;
  finding: Finding & { code: FixCode };
  onOpenChange: (open: boolean) => void;
  onApplied: () => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const code = finding.code;
  const preview = useQuery(
    trpc.doctor.previewFix.queryOptions(
      { directorId, code },
      { staleTime: 0, gcTime: 0, retry: false, refetchOnWindowFocus: false },
    ),
  );
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<FixResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function apply() {
    if (!preview.data) return;
    setBusy(true);
    setError(null);
    try {
      const r = await client.doctor.commitFix.mutate({
        directorId,
        code,
        expectedVersion: preview.data.version,
      });
      setResult(r);
      onApplied();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={`Fix ${finding.code} on ${directorId}`}
      description="These commands run on the director; the file makes the setting survive a reboot."
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            {result ? "Close" : "Cancel"}
          </Button>
          {!result && (
            <Button disabled={!preview.data || busy} onClick={() => void apply()}>
              {busy ? "Applying…" : "Apply"}
            </Button>
          )}
        </>
      }
    >
      {preview.isLoading && <p className="text-sm text-muted-foreground">Reading the director…</p>}
      {preview.error && <Alert>{errorMessage(preview.error)}</Alert>}
      {preview.data && (
        <div className="flex flex-col gap-2 text-sm">
          <ol className="flex flex-col gap-1">
            {preview.data.steps.map((s) => (
              <li key={s.command}>
                <span className="text-xs text-muted-foreground">{s.description}</span>
                <pre className="overflow-x-auto rounded bg-muted px-2 py-1 font-mono text-xs">
                  {s.command}
                </pre>
              </li>
            ))}
          </ol>
          <div>
            <span className="text-xs text-muted-foreground">{preview.data.file.path}</span>
            <pre
              className="overflow-x-auto rounded bg-muted px-2 py-1 font-mono text-xs"
              data-testid="sysctl-file"
            >
              {preview.data.file.content}
            </pre>
          </div>
        </div>
      )}
      {error && <Alert className="mt-2">{error}</Alert>}
      {result && (
        <Alert className="mt-2" variant={result.ok ? "info" : "error"}>
          {result.ok
            ? `Applied and read back: the doctor no longer finds ${finding.code} (audit #${result.auditId}).`
            : `${result.error?.message ?? "the fix failed"} (audit #${result.auditId})`}
        </Alert>
      )}
    </Dialog>
  );
}
