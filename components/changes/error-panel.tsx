import type { ApplyDirectorResult, ConsoleErrorData } from "@/components/trpc";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

/** The exit code and stderr of a command that ran and failed; nothing for other errors. */
function exitOf(error: ConsoleErrorData): { exitCode: number | null; stderr: string | null } {
  switch (error.code) {
    case "COMMAND_FAILED":
      return { exitCode: error.details.exitCode, stderr: error.details.stderr || null };
    default:
      return { exitCode: null, stderr: null };
  }
}

/** A console error as the operator needs it: what failed, where, exit code and stderr. */
export function ConsoleErrorAlert({
  error,
  title,
  directorId,
}: {
  error: ConsoleErrorData;
  title?: string;
  directorId?: string;
}) {
  const { exitCode, stderr } = exitOf(error);
  const argv = error.details.argv?.join(" ") ?? null;
  return (
    <Alert data-error-code={error.code}>
      <AlertTitle>
        {title ?? "Failed"}
        {directorId ? ` on ${directorId}` : ""}: {error.code}
      </AlertTitle>
      <AlertDescription>
        <p>{error.message}</p>
        {error.adminDetail && <p className="mt-1 text-muted-foreground">{error.adminDetail}</p>}
        {argv && (
          <pre className="overflow-x-auto rounded bg-muted px-2 py-1 font-mono">$ {argv}</pre>
        )}
        {exitCode !== null && <p className="mt-1">exit code {exitCode}</p>}
        {stderr && (
          <pre className="overflow-x-auto rounded bg-muted px-2 py-1 font-mono whitespace-pre-wrap text-danger">
            {stderr}
          </pre>
        )}
      </AlertDescription>
    </Alert>
  );
}

/** Per-director results of an apply that did not fully succeed. */
export function ResultsAlert({ results }: { results: ApplyDirectorResult[] }) {
  const failed = results.filter((r) => !r.ok || !r.verified);
  if (failed.length === 0) return null;
  return (
    <div className="flex flex-col gap-2">
      {failed.map((r) =>
        r.error ? (
          <ConsoleErrorAlert key={r.directorId} error={r.error} directorId={r.directorId} />
        ) : (
          <Alert key={r.directorId}>
            <AlertTitle>
              {r.directorId}: {r.ok ? "applied but the read-back differs" : "failed"}
            </AlertTitle>
            <AlertDescription>
              {r.steps
                .filter((s) => s.exitCode !== 0)
                .map((s, i) => (
                  <div key={i}>
                    <pre className="font-mono">$ {s.argv.join(" ")}</pre>
                    <p>exit code {s.exitCode ?? "none"}</p>
                    {s.stderr && (
                      <pre className="font-mono whitespace-pre-wrap text-danger">{s.stderr}</pre>
                    )}
                  </div>
                ))}
            </AlertDescription>
          </Alert>
        ),
      )}
    </div>
  );
}
