"use client";
import { useState } from "react";
import { weightSchema } from "@/server/ipvs/model";
import { parseWhole } from "@/components/changes/form-utils";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

/**
 * Inline weight: type, Enter (or Set) opens the preview; Esc puts the current value back.
 * Validated as you type with the model's weight schema; an invalid weight never leaves.
 */
export function WeightEditor({
  weight,
  label,
  onCommit,
}: {
  weight: number;
  label: string;
  onCommit: (w: number) => void;
}) {
  const [text, setText] = useState<string | null>(null);
  const value = text ?? String(weight);
  const parsed = weightSchema.safeParse(parseWhole(value));
  const dirty = text !== null && text !== String(weight);
  const error =
    dirty && !parsed.success ? (parsed.error.issues[0]?.message ?? "invalid weight") : null;
  const errorId = `weight-error-${label.replace(/[^a-z0-9]/gi, "-")}`;
  function commit() {
    if (dirty && parsed.success) {
      onCommit(parsed.data);
      setText(null);
    }
  }
  return (
    <div className="relative flex items-center gap-1">
      <Input
        aria-label={`Weight of ${label}`}
        aria-invalid={error !== null}
        aria-describedby={error ? errorId : undefined}
        inputMode="numeric"
        className="h-6 w-20 px-1.5 text-right text-xs"
        value={value}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            commit();
          } else if (e.key === "Escape") {
            setText(null);
          }
        }}
      />
      <Button
        size="xs"
        variant="outline"
        className={dirty ? "" : "invisible"}
        disabled={!parsed.success}
        onClick={commit}
        aria-label={`Set weight of ${label}`}
      >
        Set
      </Button>
      {error && (
        <p
          id={errorId}
          role="alert"
          className="absolute top-full left-0 z-10 w-64 rounded border border-danger/50 bg-card px-1.5 py-0.5 text-xs text-danger shadow"
        >
          {error}
        </p>
      )}
    </div>
  );
}
