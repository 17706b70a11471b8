import { Fragment } from "react";
import { Button } from "@/components/ui/button";

interface RowAction {
  label: string;
  ariaLabel: string;
  onClick: () => void;
  disabled?: boolean;
  danger?: boolean;
}

/** The small outline buttons at the end of a service or realserver row. */
export function RowActions({ actions }: { actions: RowAction[] }) {
  return actions.map((a, i) => (
    <Fragment key={a.label}>
      {i > 0 && " "}
      <Button
        size="xs"
        variant="outline"
        className={a.danger ? "text-danger" : undefined}
        aria-label={a.ariaLabel}
        disabled={a.disabled}
        onClick={a.onClick}
      >
        {a.label}
      </Button>
    </Fragment>
  ));
}
