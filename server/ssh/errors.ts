/** The pool's typed errors: what ssh2 or the socket threw, as ConsoleErrors. */
import { ConsoleError } from "@/server/errors";

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "EADDRNOTAVAIL",
]);

/** RFC 4254 5.1 reason codes of SSH_MSG_CHANNEL_OPEN_FAILURE. */
export const CHANNEL_OPEN_FAILURES: Record<number, string> = {
  1: "administratively prohibited",
  2: "connect failed",
  3: "unknown channel type",
  4: "resource shortage",
};

export interface Endpoint {
  host: string;
  port: number;
  user: string;
}

/** Why a login failed, in the words every viewer may see (details say no more). */
export type AuthFailure =
  | "key-rejected" // the server did not accept the key offered
  | "key-unusable" // the console cannot read or decrypt its own key
  | "no-agent" // agent: true but SSH_AUTH_SOCK is not set
  | "no-credentials"; // neither a key nor an agent

/**
 * AUTH_FAILED as it reaches every viewer (SSE pushes, the audit log): who could not log in
 * where. Which key file or passphrase variable is at fault is `diagnostic`, kept for the server
 * log and admins (ConsoleError.adminDetail): it tells a reader where the keys are.
 */
export function authFailed(
  directorId: string,
  at: Endpoint,
  role: "director" | "jumpHost",
  reason: AuthFailure,
  diagnostic: string,
): ConsoleError {
  return new ConsoleError(
    "AUTH_FAILED",
    `authentication as ${describeLogin(at, role, directorId)} failed (publickey)`,
    { directorId, role, host: at.host, port: at.port, user: at.user, method: "publickey", reason },
    { adminDetail: diagnostic },
  );
}

/** Turns whatever ssh2 or the socket threw into a typed ConsoleError. */
export function connectError(
  e: unknown,
  directorId: string,
  at: Endpoint,
  role: "director" | "jumpHost",
  /** What was offered to log in ("the key /path", "ssh-agent's keys"), for the diagnostic. */
  credential = "the configured key",
): ConsoleError {
  if (e instanceof ConsoleError) return e;
  const err: Error & { code?: unknown; level?: unknown } =
    e instanceof Error ? e : new Error(String(e));
  const where = describeLogin(at, role, directorId);
  const details = {
    directorId,
    host: at.host,
    port: at.port,
    user: at.user,
    role,
    cause: err.message,
  };
  const code = typeof err.code === "string" ? err.code : "";
  if (err.level === "client-authentication") {
    return authFailed(
      directorId,
      at,
      role,
      "key-rejected",
      `${where} did not accept ${credential} (${err.message})`,
    );
  }
  if (/privateKey|passphrase|Encrypted private key/i.test(err.message)) {
    return authFailed(
      directorId,
      at,
      role,
      "key-unusable",
      `cannot use ${credential} for ${where}: ${err.message}`,
    );
  }
  if (
    err.level === "client-timeout" ||
    /Timed out while waiting for handshake/i.test(err.message)
  ) {
    return new ConsoleError(
      "TIMEOUT",
      `${where} did not complete the SSH handshake in time`,
      details,
    );
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new ConsoleError("UNREACHABLE", `cannot reach ${where}: ${code}`, {
      ...details,
      errno: code,
    });
  }
  return new ConsoleError("UNREACHABLE", `cannot reach ${where}: ${err.message}`, details);
}

export function describeLogin(
  at: Endpoint,
  role: "director" | "jumpHost",
  directorId: string,
): string {
  return `${at.user}@${at.host}:${at.port}${role === "jumpHost" ? `, the jump host of ${directorId}` : ""}`;
}

export function abortError(signal: AbortSignal): ConsoleError {
  const reason: unknown = signal.reason;
  return reason instanceof ConsoleError
    ? reason
    : new ConsoleError("TIMEOUT", "the command was cancelled", { cancelled: true });
}
