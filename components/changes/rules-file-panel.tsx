"use client";
import type { RouterOutputs } from "@/components/trpc";

export type RulesFilePreview = RouterOutputs["changes"]["rulesFiles"][number];
export type RulesFileChoice = "save" | "leave";

/**
 * Rules-file directors in a change's preview: the boot file's diff the save brings, and where
 * file and kernel already differed, the operator's choice (save all, or leave the file alone).
 */
export function RulesFilePanel({
  files,
  choice,
  onChoice,
}: {
  files: readonly RulesFilePreview[];
  choice: RulesFileChoice | null;
  onChoice: (c: RulesFileChoice) => void;
}) {
  if (files.length === 0) return null;
  const differed = files.filter((f) => f.differedBefore);
  return (
    <section aria-label="Rules files" className="flex flex-col gap-2" data-testid="rules-files">
      {files.map((f) => (
        <div key={f.directorId} data-rules-file={f.directorId}>
          <p className="text-xs">
            {f.directorId}: then save the running rules to <code>{f.path}</code> (ipvsadm-save -n,
            atomic write, a timestamped copy of the old file kept)
          </p>
          {f.diff && (
            <pre
              className="overflow-x-auto rounded bg-muted p-2 text-xs"
              data-testid="rules-file-diff"
            >
              {f.diff}
            </pre>
          )}
        </div>
      ))}
      {differed.length > 0 && (
        <fieldset className="text-xs" data-testid="rules-file-choice">
          <legend className="font-medium text-warn">
            {differed.map((f) => `${f.directorId}: ${f.path}`).join(", ")} already differed from the
            kernel before this change
          </legend>
          <label className="mr-3">
            <input
              type="radio"
              name="rules-file"
              checked={choice === "save"}
              onChange={() => onChoice("save")}
            />{" "}
            save all the running rules
          </label>
          <label>
            <input
              type="radio"
              name="rules-file"
              checked={choice === "leave"}
              onChange={() => onChoice("leave")}
            />{" "}
            leave the file alone
          </label>
        </fieldset>
      )}
    </section>
  );
}
