"use client";
import type { DetailsOf } from "@/server/errors";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

/** Someone changed the director since the operator looked: show what, offer to look again. */
export function ConflictDialog({
  open,
  onOpenChange,
  message,
  details,
  onReview,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  message: string;
  details: DetailsOf<"CONFLICT">;
  onReview: () => void;
}) {
  const texts = details.changes?.map((c) => c.text) ?? [];
  const director = details.directorId ?? null;
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="The rules changed since you looked"
      description={message}
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Close
          </Button>
          <Button onClick={onReview}>Review again</Button>
        </>
      }
    >
      {director && <p className="mb-1 text-xs text-muted-foreground">Director {director}</p>}
      {texts.length > 0 ? (
        <ul className="list-disc pl-5 font-mono text-xs" aria-label="What changed">
          {texts.map((t, i) => (
            <li key={i}>{t}</li>
          ))}
        </ul>
      ) : (
        <p className="text-xs">No details were given.</p>
      )}
      <p className="mt-2 text-xs text-muted-foreground">
        Nothing was applied. Review the change against the current rules and apply again.
      </p>
    </Dialog>
  );
}
