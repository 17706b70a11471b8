import { cva, type VariantProps } from "class-variance-authority";
import type { ComponentProps } from "react";
import { cn } from "@/components/cn";

const alertVariants = cva("relative w-full rounded-md border px-3 py-2 text-sm", {
  variants: {
    variant: {
      error: "border-danger/50 bg-danger/5 text-foreground [&>h5]:text-danger",
      warning: "border-warn/50 bg-warn/5 text-foreground [&>h5]:text-warn",
      info: "border-primary/40 bg-primary/5 text-foreground",
    },
  },
  defaultVariants: { variant: "error" },
});

/**
 * Persistent messages that stay until the cause is gone. Errors use role="alert" so screen
 * readers announce them; warnings and info are polite status regions.
 */
export function Alert({
  className,
  variant,
  ...props
}: ComponentProps<"div"> & VariantProps<typeof alertVariants>) {
  return (
    <div
      role={variant === "error" || variant === undefined || variant === null ? "alert" : "status"}
      className={cn(alertVariants({ variant }), className)}
      {...props}
    />
  );
}

export function AlertTitle({ className, ...props }: ComponentProps<"h5">) {
  return <h5 className={cn("mb-0.5 font-semibold", className)} {...props} />;
}

export function AlertDescription({ className, ...props }: ComponentProps<"div">) {
  return <div className={cn("text-xs [&_pre]:mt-1", className)} {...props} />;
}
