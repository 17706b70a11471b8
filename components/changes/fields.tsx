"use client";
import { useState, type ComponentProps, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/input";

/**
 * Which fields the operator has edited: a field's error shows only once it was touched, so a
 * fresh form is not a wall of red, while the submit button follows validity all along.
 */
export function useTouched(errors: Record<string, string>): {
  show: (key: string) => string | null;
  touch: (key: string) => void;
  /** A field's change handler: set the value, mark `keys` touched. */
  edit: <T>(set: (value: T) => void, ...keys: string[]) => (value: T) => void;
  anyTouched: boolean;
} {
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const touch = (key: string) => setTouched((t) => ({ ...t, [key]: true }));
  return {
    show: (key) => (touched[key] ? (errors[key] ?? null) : null),
    touch,
    edit:
      (set, ...keys) =>
      (value) => {
        set(value);
        keys.forEach(touch);
      },
    anyTouched: Object.keys(touched).length > 0,
  };
}

type InputProps = Omit<
  ComponentProps<"input">,
  "id" | "value" | "onChange" | "aria-invalid" | "aria-describedby"
>;

/** A labelled text input whose value lives in the form's state. */
export function TextField({
  label,
  error,
  className,
  value,
  onValueChange,
  ...input
}: InputProps & {
  label: string;
  error?: string | null;
  value: string;
  onValueChange: (value: string) => void;
}) {
  return (
    <Field label={label} error={error} className={className}>
      {(p) => (
        <Input {...p} {...input} value={value} onChange={(e) => onValueChange(e.target.value)} />
      )}
    </Field>
  );
}

type SelectProps = Omit<
  ComponentProps<"select">,
  "id" | "value" | "onChange" | "children" | "aria-invalid" | "aria-describedby"
>;

/**
 * A labelled select over a fixed list of values (schedulers, protocols, forwarding methods);
 * `children` adds options after the list's own.
 */
export function SelectField<T extends string>({
  label,
  error,
  className,
  value,
  options,
  optionLabel = (x) => x,
  onValueChange,
  children,
  ...select
}: SelectProps & {
  label: string;
  error?: string | null;
  value: T;
  options: readonly T[];
  optionLabel?: (value: T) => string;
  onValueChange: (value: T) => void;
  children?: ReactNode;
}) {
  return (
    <Field label={label} error={error} className={className}>
      {(p) => (
        <Select
          {...p}
          {...select}
          value={value}
          // The options are exactly `options` (plus `children`, typed by the caller's T).
          onChange={(e) => onValueChange(e.target.value as T)}
        >
          {options.map((x) => (
            <option key={x} value={x}>
              {optionLabel(x)}
            </option>
          ))}
          {children}
        </Select>
      )}
    </Field>
  );
}

/**
 * The dialog around a change form: Cancel, and "Review commands" that submits the form (the
 * change then goes to the plan dialog, never straight to a director).
 */
export function ChangeFormDialog({
  formId,
  title,
  description,
  valid,
  onOpenChange,
  onSubmit,
  className,
  children,
}: {
  formId: string;
  title: string;
  description?: string;
  valid: boolean;
  onOpenChange: (open: boolean) => void;
  onSubmit: () => void;
  className: string;
  children: ReactNode;
}) {
  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={title}
      description={description}
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" form={formId} disabled={!valid}>
            Review commands
          </Button>
        </>
      }
    >
      <form
        id={formId}
        noValidate
        className={className}
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) onSubmit();
        }}
      >
        {children}
      </form>
    </Dialog>
  );
}
