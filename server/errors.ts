/**
 * Errors are values with a code the UI can act on. Every layer (parsers, planner, SSH,
 * changes) throws or returns a ConsoleError; the tRPC error formatter ships `code` and
 * `details` to the browser, which picks a dialog from the code (trust a host key, show a
 * conflict, show stderr and the exit code).
 */

export type ConsoleErrorCode =
  // input and planning
  | "VALIDATION" // input failed a schema; details.fields maps field paths to messages
  | "REFUSED" // the planner refuses the change; details.reason says why (see RefusalReason)
  | "NOT_FOUND" // no such cluster, director, drain, ...
  | "CONFLICT" // the director changed since the operator looked; details.changes lists what
  // reading
  | "PARSE_ERROR" // output we could not parse; details.line, details.lineNumber, details.source
  // SSH transport
  | "UNREACHABLE"
  | "TIMEOUT"
  | "AUTH_FAILED" // message safe for every viewer; the reason (key file, passphrase) is in the server log
  | "CHANNEL_REFUSED" // the director refused to open a channel (sshd MaxSessions): that command did not run, the connection stays
  | "HOST_KEY_UNKNOWN" // details.fingerprint: offer an explicit "trust this key" step
  | "HOST_KEY_CHANGED" // details.expected, details.actual: refuse loudly
  | "COMMAND_FAILED" // details.argv, details.exitCode, details.stderr, details.ipvs (typed kernel error)
  // applying
  | "PARTIAL" // a change applied on some directors and not others; details.results per director
  | "VERIFY_FAILED" // applied, but the read-back differs; details.director, details.command
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "RATE_LIMITED" // too many attempts (sign-in); details.retryAfterSeconds
  | "INTERNAL";

export type ErrorDetails = Record<string, unknown>;

export class ConsoleError extends Error {
  override readonly name = "ConsoleError";
  /**
   * What an admin needs to fix the problem but a viewer must not see (e.g. which key file or
   * passphrase variable failed). Never part of toJSON (SSE pushes, the audit log); the tRPC
   * error formatter adds it for admins only. Never put a secret's value here.
   */
  readonly adminDetail: string | undefined;
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown; adminDetail?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.adminDetail = options?.adminDetail;
  }

  toJSON(): { code: ConsoleErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isConsoleError(e: unknown, code?: ConsoleErrorCode): e is ConsoleError {
  return e instanceof ConsoleError && (code === undefined || e.code === code);
}
