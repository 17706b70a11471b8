import { TRPCClientError } from "@trpc/client";
import type { ConsoleErrorData } from "./api-types";

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

/** The console's typed error behind a tRPC failure, when there is one. */
export function consoleErrorOf(err: unknown): ConsoleErrorData | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data: unknown = err.data;
  if (!isRecord(data) || !isRecord(data.console)) return null;
  const c = data.console;
  if (typeof c.code !== "string" || typeof c.message !== "string") return null;
  return {
    code: c.code as ConsoleErrorData["code"],
    message: c.message,
    details: isRecord(c.details) ? c.details : {},
  };
}

export function errorMessage(err: unknown): string {
  const c = consoleErrorOf(err);
  if (c) return c.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function detailString(details: Record<string, unknown>, key: string): string | null {
  const v = details[key];
  return typeof v === "string" ? v : null;
}

export function detailNumber(details: Record<string, unknown>, key: string): number | null {
  const v = details[key];
  return typeof v === "number" ? v : null;
}
