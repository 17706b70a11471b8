"use client";
import { cva } from "class-variance-authority";
import {
  createContext,
  useCallback,
  useContext,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { cn } from "@/components/cn";

export type ToastVariant = "ok" | "error" | "info";

interface ToastItem {
  id: number;
  title: string;
  description?: string;
  variant: ToastVariant;
}

interface ToastApi {
  toast: (t: {
    title: string;
    description?: string;
    variant?: ToastVariant;
    durationMs?: number;
  }) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

const toastVariants = cva(
  "pointer-events-auto w-80 rounded-md border bg-card px-3 py-2 text-sm shadow-lg border-l-4",
  {
    variants: {
      variant: { ok: "border-l-ok", error: "border-l-danger", info: "border-l-primary" },
    },
  },
);

/** Results of actions; persistent errors belong in an Alert on the page, not here. */
export function Toaster({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setItems((xs) => xs.filter((x) => x.id !== id)), []);
  const api = useMemo<ToastApi>(
    () => ({
      toast: ({ title, description, variant = "ok", durationMs = 6000 }) => {
        const id = nextId.current++;
        setItems((xs) => [...xs.slice(-3), { id, title, description, variant }]);
        setTimeout(() => dismiss(id), durationMs);
      },
    }),
    [dismiss],
  );
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div
        role="region"
        aria-label="Notifications"
        className="pointer-events-none fixed right-4 bottom-4 z-[60] flex flex-col gap-2"
      >
        {items.map((t) => (
          <div
            key={t.id}
            role="status"
            aria-live="polite"
            className={toastVariants({ variant: t.variant })}
            data-toast={t.variant}
          >
            <div className="flex items-start gap-2">
              <div className="min-w-0 flex-1">
                <p className="font-medium">{t.title}</p>
                {t.description && (
                  <p className="mt-0.5 text-xs break-words text-muted-foreground">
                    {t.description}
                  </p>
                )}
              </div>
              <button
                type="button"
                aria-label="Dismiss notification"
                className={cn("rounded px-1 text-muted-foreground hover:bg-muted")}
                onClick={() => dismiss(t.id)}
              >
                ×
              </button>
            </div>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error("useToast outside <Toaster>");
  return api;
}
