/**
 * The one table from a ConsoleError's code to the tRPC code, hence the HTTP status the
 * browser (and a proxy, a log, a monitor) sees. What the director did or could not do is a
 * gateway's failure (502/503/504), not the console's own (500): only INTERNAL is a 500.
 * The code is complete by type, so a new ConsoleErrorCode cannot ship without its status.
 */
import { TRPCError } from "@trpc/server";
import type { ConsoleError, ConsoleErrorCode } from "@/server/errors";

export const TRPC_CODE_OF: Readonly<Record<ConsoleErrorCode, TRPCError["code"]>> = {
  VALIDATION: "BAD_REQUEST", // 400
  REFUSED: "UNPROCESSABLE_CONTENT", // 422: understood, and refused on its merits
  NOT_FOUND: "NOT_FOUND", // 404
  CONFLICT: "CONFLICT", // 409: the director changed since the operator looked
  UNAUTHORIZED: "UNAUTHORIZED", // 401
  FORBIDDEN: "FORBIDDEN", // 403
  RATE_LIMITED: "TOO_MANY_REQUESTS", // 429
  // The director answered with something we cannot use, or not at all.
  PARSE_ERROR: "BAD_GATEWAY", // 502
  UNREACHABLE: "BAD_GATEWAY", // 502
  AUTH_FAILED: "BAD_GATEWAY", // 502: the director refused the console's key, not the user's session
  HOST_KEY_UNKNOWN: "BAD_GATEWAY", // 502: the console refused the director's key
  HOST_KEY_CHANGED: "BAD_GATEWAY", // 502
  COMMAND_FAILED: "BAD_GATEWAY", // 502
  PARTIAL: "BAD_GATEWAY", // 502: some directors failed the change
  VERIFY_FAILED: "BAD_GATEWAY", // 502
  CHANNEL_REFUSED: "SERVICE_UNAVAILABLE", // 503: sshd's MaxSessions; try again shortly
  TIMEOUT: "GATEWAY_TIMEOUT", // 504: the director did not answer in time
  INTERNAL: "INTERNAL_SERVER_ERROR", // 500
};

/** Wraps a ConsoleError so the formatter can hand its code and details to the browser. */
export function toTRPCError(e: ConsoleError): TRPCError {
  return new TRPCError({ code: TRPC_CODE_OF[e.code], message: e.message, cause: e });
}
