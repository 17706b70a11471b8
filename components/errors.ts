import { TRPCClientError } from "@trpc/client";
import type { ConsoleErrorJson } from "@/server/errors";
import type { AppRouter } from "@/server/trpc/root";
import type { ConsoleErrorData } from "./trpc";

/** The console's typed error behind a tRPC failure (the error formatter's `data.console`), when there is one. */
export function consoleErrorOf(err: unknown): ConsoleErrorData | null {
  if (!(err instanceof TRPCClientError)) return null;
  // A failure that never reached the router (a proxy's 502, a dropped connection) has no data.
  const data = (err as TRPCClientError<AppRouter>).data;
  return data?.console ?? null;
}

export function errorMessage(err: unknown): string {
  const c = consoleErrorOf(err);
  if (c) return c.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The key an admin may review and trust after HOST_KEY_UNKNOWN, or null. Never a jump host's:
 * the server refuses those (their keys are pinned in lvs-console.yaml), so the UI explains
 * that instead of offering a button that cannot work.
 */
export function trustableHostKey(
  error: ConsoleErrorJson | null | undefined,
): { directorId: string; fingerprint: string } | null {
  if (error?.code !== "HOST_KEY_UNKNOWN" || isJumpHostKey(error)) return null;
  const { fingerprint, directorId } = error.details;
  return fingerprint && directorId ? { directorId, fingerprint } : null;
}

/** A host-key error about the jump host in front of a director, not the director itself. */
export function isJumpHostKey(error: ConsoleErrorJson): boolean {
  switch (error.code) {
    case "HOST_KEY_UNKNOWN":
    case "HOST_KEY_CHANGED":
      return error.details.role === "jumpHost";
    default:
      return false;
  }
}
