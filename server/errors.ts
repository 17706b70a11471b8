/**
 * Errors are values with a code the UI can act on. Every layer (parsers, planner, SSH,
 * changes) throws or returns a ConsoleError; the tRPC error formatter ships `code` and
 * `details` to the browser, which picks a dialog from the code (trust a host key, show a
 * conflict, show stderr and the exit code).
 */

export type ConsoleErrorCode =
  // input and planning
  | "VALIDATION" // input failed a schema; details.fields maps field paths to messages
  | "REFUSED" // the change, drain or trust step is refused; details.reason says why (RefusalReason)
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
  | "COMMAND_FAILED" // CommandFailedDetails: argv, exit code, stderr, the ipvsadm classification
  // applying
  | "PARTIAL" // a change applied on some directors and not others; details.results per director
  | "VERIFY_FAILED" // applied, but the read-back differs; details.director, details.command
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "RATE_LIMITED" // too many sign-in attempts or paused connection-table reads; details.reason, details.retryAfterSeconds
  | "INTERNAL";

export type ErrorDetails = Record<string, unknown>;

/** Context any error may carry: where it happened, which command, which audit entry. */
export interface ErrorContext {
  directorId?: string;
  argv?: string[];
  auditId?: number;
}

/** Details a code always carries, plus the context its callers add. */
type Open<T> = T & ErrorContext & ErrorDetails;

/** Why the keepalived config editor refuses an edit (server/ipvs/keepalived/edit-support.ts). */
export type EditRefusal =
  | "config-has-findings"
  | "not-found"
  | "already-exists"
  | "uses-definition"
  | "layout-not-supported"
  | "last-realserver"
  | "invalid-value";

/**
 * Why a change, drain or trust step is refused: the planner's reasons first, then the
 * drain lifecycle's and the host-key trust step's.
 */
export type RefusalReason =
  | "invalid"
  | "no-such-service"
  | "no-such-realserver"
  | "already-a-member"
  | "service-exists"
  | "would-change-nothing"
  | "already-draining"
  | "drain-finished"
  | "not-drained"
  | "host-key-configured"
  | "jump-host-key-not-configured"
  | EditRefusal
  // changes that last (server/directors/lasting*.ts)
  | "no-recorded-weight"
  | "keepalived-not-running"
  // the pair kept identical, rules files saved and restored (server/directors/pair*.ts)
  | "owners-differ"
  | "no-rules-file"
  // applying (server/directors/run-director.ts): another change holds the director's lock;
  // another director of the cluster could not go ahead, so this one did nothing either
  | "director-locked"
  | "held-back";

/**
 * What a failed ipvsadm (or sysctl) run means (server/ipvs/errors.ts classifies it from the
 * exit code and stderr), so the UI can say "that realserver is already a member".
 */
export const IPVS_FAILURE_KINDS = [
  "service-exists",
  "destination-exists",
  "no-such-service",
  "no-such-destination",
  "service-not-defined",
  "scheduler-not-found",
  "illegal-address",
  "illegal-weight",
  "out-of-range",
  "address-family",
  "zero-port",
  "invalid-timeout",
  "permission-denied",
  "ipvs-unavailable",
  "unknown-option",
  "usage",
  "unknown",
] as const;
export type IpvsFailureKind = (typeof IPVS_FAILURE_KINDS)[number];

/**
 * ipvsadm exits 255 when the kernel refuses an operation (and for a few popt errors),
 * 2 when it cannot parse its command line, 1 when a listed service does not exist.
 */
export type IpvsExitClass = "kernel-refusal" | "parse-error" | "not-found-on-list" | "other";

export interface IpvsFailure {
  kind: IpvsFailureKind;
  exitCode: number;
  exitClass: IpvsExitClass;
  /** What happened, in the operator's words. */
  message: string;
  /** The remote stderr, trimmed. */
  stderr: string;
}

export interface CommandFailedDetails {
  directorId: string;
  argv: string[];
  /** null when the command was cut short (output too large, section never closed). */
  exitCode: number | null;
  stderr: string;
  stdout?: string;
  /** The classified failure; null when the command did not exit. */
  ipvs: IpvsFailure | null;
}

/** The details each code carries (a code not listed carries free context only). */
export interface ErrorDetailsByCode {
  VALIDATION: Open<{ fields?: Record<string, string> }>;
  REFUSED: Open<{ reason: RefusalReason }>;
  /** changes: what differs, each with its operator-readable `text` (server/ipvs/rule-diff.ts). */
  CONFLICT: Open<{ changes?: ReadonlyArray<{ text: string; directorId?: string }> }>;
  PARSE_ERROR: Open<{ source: string }>;
  TIMEOUT: Open<{ cancelled?: boolean }>;
  /** fingerprint is missing only when the known_hosts file could not be read. */
  HOST_KEY_UNKNOWN: Open<{ role?: "director" | "jumpHost"; fingerprint?: string }>;
  HOST_KEY_CHANGED: Open<{
    role: "director" | "jumpHost";
    expected: string | string[] | null;
    actual: string;
  }>;
  COMMAND_FAILED: Open<CommandFailedDetails>;
  UNAUTHORIZED: Open<{ reason?: "session-ended" }>;
  RATE_LIMITED: Open<{ retryAfterSeconds: number }>;
}

export type DetailsOf<C extends ConsoleErrorCode> = C extends keyof ErrorDetailsByCode
  ? ErrorDetailsByCode[C]
  : Open<object>;

/** A ConsoleError as JSON (tRPC error data, SSE pushes, the audit log): switch on `code`. */
export type ConsoleErrorJson = {
  [C in ConsoleErrorCode]: { code: C; message: string; details: DetailsOf<C> };
}[ConsoleErrorCode];

type DetailsArgs<C extends ConsoleErrorCode> =
  Record<string, never> extends DetailsOf<C>
    ? [details?: DetailsOf<C>, options?: ErrorOptions]
    : [details: DetailsOf<C>, options?: ErrorOptions];

type ErrorOptions = { cause?: unknown; adminDetail?: string };

class ConsoleErrorBase extends Error {
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
    options?: ErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.adminDetail = options?.adminDetail;
  }

  toJSON(): ConsoleErrorJson {
    return { code: this.code, message: this.message, details: this.details } as ConsoleErrorJson;
  }
}

/** A console error; narrowing on `code` types its details. */
export type ConsoleError<C extends ConsoleErrorCode = ConsoleErrorCode> = C extends ConsoleErrorCode
  ? ConsoleErrorBase & { readonly code: C; readonly details: DetailsOf<C> }
  : never;

interface ConsoleErrorConstructor {
  new <C extends ConsoleErrorCode>(
    code: C,
    message: string,
    ...rest: DetailsArgs<C>
  ): ConsoleError<C>;
  // What `instanceof ConsoleError` narrows to: the union over every code.
  readonly prototype: ConsoleError;
}

/** The class, typed so the details a code needs are required when it is built. */
export const ConsoleError = ConsoleErrorBase as unknown as ConsoleErrorConstructor;

export function isConsoleError<C extends ConsoleErrorCode = ConsoleErrorCode>(
  e: unknown,
  code?: C,
): e is ConsoleError<C> {
  return e instanceof ConsoleErrorBase && (code === undefined || e.code === code);
}

/** The same error JSON with more context in its details. */
export function addDetails(json: ConsoleErrorJson, extra: ErrorDetails): ConsoleErrorJson {
  return { ...json, details: { ...json.details, ...extra } } as ConsoleErrorJson;
}

/**
 * The error again, keeping its code, with more context in its details and its message
 * prefixed (e.g. by the director it happened on).
 */
export function withDetails(e: unknown, extra: ErrorDetails, prefix = ""): ConsoleError {
  const json = toErrorJson(e);
  const adminDetail = e instanceof ConsoleError ? e.adminDetail : undefined;
  return new ConsoleError(
    json.code,
    prefix + json.message,
    { ...json.details, ...extra },
    { cause: e, ...(adminDetail ? { adminDetail } : {}) },
  );
}

/** The one conversion of anything thrown to the JSON the UI and the audit log get. */
export function toErrorJson(e: unknown): ConsoleErrorJson {
  if (e instanceof ConsoleError) return e.toJSON();
  return { code: "INTERNAL", message: e instanceof Error ? e.message : String(e), details: {} };
}
