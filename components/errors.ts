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
    ...(typeof c.adminDetail === "string" ? { adminDetail: c.adminDetail } : {}),
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

/**
 * The key an admin may review and trust after HOST_KEY_UNKNOWN, or null. Never a jump host's:
 * the server refuses those (their keys are pinned in lvs-console.yaml), so the UI explains
 * that instead of offering a button that cannot work.
 */
export function trustableHostKey(
  error: Pick<ConsoleErrorData, "code" | "details"> | null | undefined,
): { directorId: string; fingerprint: string } | null {
  if (error?.code !== "HOST_KEY_UNKNOWN" || isJumpHostKey(error)) return null;
  const fingerprint = detailString(error.details, "fingerprint");
  const directorId =
    detailString(error.details, "directorId") ?? detailString(error.details, "director");
  return fingerprint && directorId ? { directorId, fingerprint } : null;
}

/** A host-key error about the jump host in front of a director, not the director itself. */
export function isJumpHostKey(error: Pick<ConsoleErrorData, "code" | "details">): boolean {
  return (
    (error.code === "HOST_KEY_UNKNOWN" || error.code === "HOST_KEY_CHANGED") &&
    error.details.role === "jumpHost"
  );
}
