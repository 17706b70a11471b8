/**
 * One SSH connection per director, reused for every command (a handshake costs about a
 * second against a small director; a command over an open connection a few ms plus the
 * command itself). The only importer of ssh2.
 *
 * - keepalive (10 s, 3 misses) notices a dead peer; a dropped connection is evicted and
 *   reconnected with exponential backoff (1 s, 2 s, ... 30 s) between failed attempts;
 * - at most 4 exec channels at a time per connection, the rest wait in FIFO order;
 * - every exec has a timeout and an AbortSignal: either closes the channel, frees the
 *   slot and rejects with TIMEOUT;
 * - a channel the director refuses (sshd's MaxSessions, shared with other clients of the
 *   same login) fails that command only, CHANNEL_REFUSED: the connection and the commands
 *   running on it are fine;
 * - AUTH_FAILED says who failed to log in where; which key file or passphrase variable is
 *   at fault goes to the server log and to admins (ConsoleError.adminDetail);
 * - host keys are checked strictly (server/ssh/host-keys.ts): ssh2 accepts any by default.
 */
import "server-only";
import { readFileSync } from "node:fs";
// utils only through the default import: Node's ESM loader cannot see it as a named export of ssh2 (CommonJS).
import ssh2, { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { DirectorConfig, JumpHostConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { directorLog } from "@/server/log";
import { backoffDelay, type BackoffPolicy } from "./backoff";
import {
  preferredKeyTypes,
  sqliteTrustStore,
  verifyHostKey,
  type HostKeyTarget,
  type TrustStore,
} from "./host-keys";
import { commandLine, scriptCommandLine } from "./quote";
import { Semaphore } from "./semaphore";

export interface ExecOptions {
  /** Default 30 s; covers the wait for a free channel and for the connection. */
  timeoutMs?: number;
  signal?: AbortSignal;
  stdin?: string | Buffer;
}

export interface ScriptOptions extends ExecOptions {
  /** Positional parameters ($1, $2, ...) of the script: the only way values reach it. */
  args?: readonly string[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type ConnectionState = "idle" | "connecting" | "ready" | "backoff" | "closed";

export interface ConnectionStats {
  /** Successful handshakes since the pool started. */
  connects: number;
  /** Exec channels opened since the pool started. */
  commands: number;
  inFlight: number;
  queued: number;
  state: ConnectionState;
}

/** The part of a director the pool needs (DirectorConfig fits; tests may build one inline). */
export type SshTarget = Pick<
  DirectorConfig,
  | "id"
  | "host"
  | "port"
  | "user"
  | "privateKeyPath"
  | "agent"
  | "passphraseEnv"
  | "hostKeyFingerprint"
  | "knownHostsPath"
  | "sudo"
  | "jumpHost"
>;

export interface SshPool {
  exec(director: SshTarget, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** exec, but a non-zero exit is a COMMAND_FAILED error carrying argv, exit code and stderr. */
  execChecked(
    director: SshTarget,
    argv: readonly string[],
    opts?: ExecOptions,
  ): Promise<ExecResult>;
  /**
   * Runs one of the console's own FIXED POSIX sh scripts, to batch several reads into one
   * round trip, with LC_ALL=C (quote.ts scriptCommandLine). Never build `script` from
   * input: pass values as `opts.args`.
   */
  execScript(director: SshTarget, script: string, opts?: ScriptOptions): Promise<ExecResult>;
  stats(directorId: string): ConnectionStats;
  /** Forgets the failures of a director so the next command connects at once (after trusting its key). */
  resetBackoff(directorId: string): void;
  close(directorId: string): void;
  closeAll(): void;
}

export interface PoolOptions {
  maxChannels: number;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  defaultTimeoutMs: number;
  /** Between failed connection attempts. */
  backoff: BackoffPolicy;
  /** A connection that drops is re-opened at once if it carried a command this recently. */
  reconnectIfUsedWithinMs: number;
  /** Larger outputs fail the command instead of eating the console's memory. */
  maxOutputBytes: number;
  trust: TrustStore;
}

export const DEFAULT_POOL_OPTIONS: PoolOptions = {
  maxChannels: 4,
  readyTimeoutMs: 10_000,
  keepaliveIntervalMs: 10_000,
  keepaliveCountMax: 3,
  defaultTimeoutMs: 30_000,
  backoff: { baseMs: 1000, maxMs: 30_000 },
  reconnectIfUsedWithinMs: 60_000,
  maxOutputBytes: 64 * 1024 * 1024,
  trust: sqliteTrustStore,
};

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
const CHANNEL_OPEN_FAILURES: Record<number, string> = {
  1: "administratively prohibited",
  2: "connect failed",
  3: "unknown channel type",
  4: "resource shortage",
};

interface Endpoint {
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

const SERVER_HOST_KEY_ORDER = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
] as const;

/** Offers the key types known_hosts holds first, so the server shows the key we can check. */
function hostKeyAlgorithms(known: string[]): ConnectConfig["algorithms"] | undefined {
  if (known.length === 0) return undefined;
  const wanted = (alg: string) =>
    known.includes(alg) || (known.includes("ssh-rsa") && alg.startsWith("rsa-sha2-"));
  const order = [
    ...SERVER_HOST_KEY_ORDER.filter(wanted),
    ...SERVER_HOST_KEY_ORDER.filter((a) => !wanted(a)),
  ];
  return { serverHostKey: order };
}

function credentialOf(endpoint: Pick<JumpHostConfig, "privateKeyPath" | "agent">): string {
  return endpoint.agent
    ? "the keys of ssh-agent"
    : `the key ${endpoint.privateKeyPath ?? "(none)"}`;
}

function authConfig(
  endpoint: Pick<JumpHostConfig, "privateKeyPath" | "agent" | "passphraseEnv">,
  directorId: string,
  at: Endpoint,
  role: "director" | "jumpHost",
): Partial<ConnectConfig> {
  const login = describeLogin(at, role, directorId);
  if (endpoint.agent) {
    const agent = process.env.SSH_AUTH_SOCK;
    if (!agent) {
      throw authFailed(
        directorId,
        at,
        role,
        "no-agent",
        `${login} logs in through ssh-agent, but SSH_AUTH_SOCK is not set`,
      );
    }
    return { agent };
  }
  if (endpoint.privateKeyPath === undefined) {
    throw authFailed(
      directorId,
      at,
      role,
      "no-credentials",
      `no private key or agent configured for ${login}`,
    );
  }
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(endpoint.privateKeyPath);
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : "error";
    throw authFailed(
      directorId,
      at,
      role,
      "key-unusable",
      `cannot read the private key ${endpoint.privateKeyPath} (${code})`,
    );
  }
  const passphrase =
    endpoint.passphraseEnv === undefined ? undefined : process.env[endpoint.passphraseEnv];
  const problem = keyProblem(
    privateKey,
    passphrase,
    endpoint.privateKeyPath,
    endpoint.passphraseEnv,
    login,
  );
  if (problem) throw authFailed(directorId, at, role, "key-unusable", problem);
  return passphrase === undefined ? { privateKey } : { privateKey, passphrase };
}

function describeLogin(at: Endpoint, role: "director" | "jumpHost", directorId: string): string {
  return `${at.user}@${at.host}:${at.port}${role === "jumpHost" ? `, the jump host of ${directorId}` : ""}`;
}

/**
 * Why a private key cannot be used, checked before connecting: ssh2 would only say
 * "Cannot parse privateKey: ... bad passphrase?", not which key or which variable. Names the
 * file and the variable, never the passphrase: this goes to the server log and to admins.
 */
function keyProblem(
  privateKey: Buffer,
  passphrase: string | undefined,
  path: string,
  passphraseEnv: string | undefined,
  login: string,
): string | null {
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (!(parsed instanceof Error)) return null;
  const unlocked = passphrase === undefined ? parsed : ssh2.utils.parseKey(privateKey);
  const encrypted = unlocked instanceof Error && /no passphrase given/i.test(unlocked.message);
  if (!encrypted) return `cannot use the private key ${path} (for ${login}): ${parsed.message}`;
  if (passphrase !== undefined)
    return `the passphrase in ${passphraseEnv ?? "passphraseEnv"} does not decrypt the private key ${path} (for ${login})`;
  if (passphraseEnv !== undefined) {
    return `the private key ${path} (for ${login}) is encrypted, and the environment variable ${passphraseEnv} holding its passphrase is not set`;
  }
  return `the private key ${path} (for ${login}) is encrypted: name the environment variable holding its passphrase in passphraseEnv`;
}

function poolKey(d: SshTarget): string {
  return [d.id, d.host, d.port, d.user].join("\u0000");
}

function once<T extends unknown[]>(fn: (...args: T) => void): (...args: T) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
}

function abortError(signal: AbortSignal): ConsoleError {
  const reason: unknown = signal.reason;
  return reason instanceof ConsoleError
    ? reason
    : new ConsoleError("TIMEOUT", "the command was cancelled", { cancelled: true });
}

/** Waits for `ms`, or rejects early when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The pool's entry for one director: its connection, its channel slots and its history. */
class DirectorConnection {
  private client: Client | null = null;
  private jump: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: ConsoleError | null = null;
  private loggedAuthFailure: string | undefined;
  private lastUsedAt = 0;
  private closedByUs = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  readonly slots: Semaphore;
  connects = 0;
  commands = 0;

  constructor(
    readonly director: SshTarget,
    private readonly options: PoolOptions,
  ) {
    this.slots = new Semaphore(options.maxChannels);
  }

  get state(): ConnectionState {
    if (this.client) return "ready";
    if (this.connecting) return "connecting";
    if (this.failures > 0) return "backoff";
    return this.connects > 0 ? "closed" : "idle";
  }

  resetBackoff(): void {
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.lastError = null;
  }

  /** An open connection, opening one if needed; honours the backoff after failures. */
  async client_(signal: AbortSignal, deadline: number): Promise<Client> {
    this.lastUsedAt = Date.now();
    if (this.client) return this.client;
    if (this.connecting) return this.raceAbort(this.connecting, signal);
    const wait = this.nextAttemptAt - Date.now();
    // The next attempt is due after the caller gives up: report why the last one failed.
    if (wait > 0 && this.lastError && this.nextAttemptAt >= deadline) throw this.lastError;
    if (wait > 0) {
      // Too soon after a failure: wait for the next attempt when the caller can afford it.
      await sleep(wait, signal);
      if (this.client) return this.client;
      if (this.connecting) return this.raceAbort(this.connecting, signal);
    }
    return this.raceAbort(this.connect(), signal);
  }

  private raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private connect(): Promise<Client> {
    this.closedByUs = false;
    const attempt = this.open().then(
      (client) => {
        this.connecting = null;
        this.failures = 0;
        this.nextAttemptAt = 0;
        this.lastError = null;
        this.loggedAuthFailure = undefined;
        this.connects++;
        if (this.connects > 1)
          directorLog(this.director).info(
            { event: "ssh.reconnect", connects: this.connects },
            "SSH connection opened again",
          );
        return client;
      },
      (e: unknown) => {
        this.connecting = null;
        const error =
          e instanceof ConsoleError
            ? e
            : connectError(e, this.director.id, this.director, "director");
        this.failures++;
        this.nextAttemptAt = Date.now() + backoffDelay(this.failures, this.options.backoff);
        this.logAuthFailure(error);
        this.lastError = error;
        throw error;
      },
    );
    this.connecting = attempt;
    return attempt;
  }

  /**
   * The why of an AUTH_FAILED goes to the server log, since viewers only see "authentication
   * failed": once per distinct diagnostic, not at every retry of the backoff.
   */
  private logAuthFailure(error: ConsoleError): void {
    if (error.code !== "AUTH_FAILED" || error.adminDetail === this.loggedAuthFailure) return;
    this.loggedAuthFailure = error.adminDetail;
    directorLog(this.director).warn(
      { event: "ssh.auth_failed", detail: error.adminDetail ?? null },
      error.message,
    );
  }

  private async open(): Promise<Client> {
    const d = this.director;
    let sock: ConnectConfig["sock"];
    if (d.jumpHost) {
      const jump = await this.handshake(d.jumpHost, "jumpHost", undefined);
      this.jump = jump;
      try {
        sock = await new Promise<ClientChannel>((resolve, reject) => {
          jump.forwardOut("127.0.0.1", 0, d.host, d.port, (err, stream) =>
            err ? reject(err) : resolve(stream),
          );
        });
      } catch (e) {
        jump.end();
        this.jump = null;
        const why = e instanceof Error ? e.message : String(e);
        throw new ConsoleError(
          "UNREACHABLE",
          `the jump host ${d.jumpHost.host} cannot reach ${d.host}:${d.port}: ${why}`,
          {
            directorId: d.id,
            host: d.host,
            port: d.port,
            role: "director",
            cause: why,
          },
        );
      }
    }
    try {
      const client = await this.handshake(d, "director", sock);
      this.client = client;
      return client;
    } catch (e) {
      this.jump?.end();
      this.jump = null;
      throw e;
    }
  }

  private handshake(
    endpoint: SshTarget | JumpHostConfig,
    role: "director" | "jumpHost",
    sock: ConnectConfig["sock"],
  ): Promise<Client> {
    const d = this.director;
    const at: Endpoint = { host: endpoint.host, port: endpoint.port, user: endpoint.user };
    const target: HostKeyTarget = {
      directorId: d.id,
      role,
      host: endpoint.host,
      port: endpoint.port,
      hostKeyFingerprint: endpoint.hostKeyFingerprint,
      knownHostsPath: endpoint.knownHostsPath,
    };
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let refusal: ConsoleError | null = null;
      let ready = false;
      const fail = once((e: unknown) => {
        client.end();
        reject(refusal ?? connectError(e, d.id, at, role, credentialOf(endpoint)));
      });
      const config: ConnectConfig = {
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.user,
        readyTimeout: this.options.readyTimeoutMs,
        keepaliveInterval: this.options.keepaliveIntervalMs,
        keepaliveCountMax: this.options.keepaliveCountMax,
        hostVerifier: (key: Buffer) => {
          try {
            refusal = verifyHostKey(target, key, this.options.trust);
          } catch (e) {
            refusal = connectError(e, d.id, at, role);
          }
          return refusal === null;
        },
        ...(sock ? { sock } : {}),
      };
      const algorithms = hostKeyAlgorithms(preferredKeyTypes(target));
      if (algorithms) config.algorithms = algorithms;
      try {
        Object.assign(config, authConfig(endpoint, d.id, at, role));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      client.on("ready", () => {
        ready = true;
        resolve(client);
      });
      client.on("error", (e) => {
        if (!ready) fail(e);
        else if (role === "director") this.lastError = connectError(e, d.id, at, role);
      });
      client.on("close", () => {
        if (!ready) fail(new Error("the connection closed during the handshake"));
        else this.dropped(client, role);
      });
      try {
        client.connect(config);
      } catch (e) {
        fail(e);
      }
    });
  }

  /** A connection went away: evict it, and re-open it at once if it is in use. */
  private dropped(client: Client, role: "director" | "jumpHost"): void {
    if (role === "jumpHost") {
      // The director's connection runs through this one and closes with it.
      if (this.jump === client) this.jump = null;
      return;
    }
    if (this.client !== client) return;
    this.client = null;
    this.jump?.end();
    this.jump = null;
    if (this.closedByUs || Date.now() - this.lastUsedAt > this.options.reconnectIfUsedWithinMs)
      return;
    const delay = Math.max(0, this.nextAttemptAt - Date.now());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.client || this.connecting || this.closedByUs) return;
      // Failures are recorded for the next command; nobody awaits this attempt.
      this.connect().catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref();
  }

  close(): void {
    this.closedByUs = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.client?.end();
    this.jump?.end();
    this.client = null;
    this.jump = null;
  }

  /** Opens a channel, runs the command line, waits for its close and exit code. */
  async run(command: string, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.options.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const cancel = new AbortController();
    const timer = setTimeout(() => {
      cancel.abort(
        new ConsoleError(
          "TIMEOUT",
          `${argv[0] ?? "the command"} on ${this.director.id} did not finish within ${timeoutMs} ms`,
          {
            directorId: this.director.id,
            argv: [...argv],
            timeoutMs,
          },
        ),
      );
    }, timeoutMs);
    const onCallerAbort = () =>
      cancel.abort(
        new ConsoleError(
          "TIMEOUT",
          `${argv[0] ?? "the command"} on ${this.director.id} was cancelled`,
          {
            directorId: this.director.id,
            argv: [...argv],
            cancelled: true,
          },
        ),
      );
    if (opts.signal?.aborted) onCallerAbort();
    else opts.signal?.addEventListener("abort", onCallerAbort, { once: true });

    let release: (() => void) | null = null;
    try {
      release = await this.slots.acquire(cancel.signal).catch((e: unknown) => {
        throw e instanceof ConsoleError ? e : abortError(cancel.signal);
      });
      const client = await this.client_(cancel.signal, deadline);
      return await this.channel(client, command, argv, opts.stdin, cancel.signal);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onCallerAbort);
      release?.();
    }
  }

  private channel(
    client: Client,
    command: string,
    argv: readonly string[],
    stdin: string | Buffer | undefined,
    signal: AbortSignal,
  ): Promise<ExecResult> {
    const d = this.director;
    return new Promise<ExecResult>((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal));
      let channel: ClientChannel | null = null;
      const finish = once((error: ConsoleError | null, result?: ExecResult) => {
        signal.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else if (result) resolve(result);
      });
      const onAbort = () => {
        channel?.close();
        finish(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const refused = (e: Error, reason: unknown) => {
        const why = CHANNEL_OPEN_FAILURES[typeof reason === "number" ? reason : 0] ?? "refused";
        finish(
          new ConsoleError(
            "CHANNEL_REFUSED",
            `${d.id} refused to run ${argv[0] ?? "the command"} (${why}: ${e.message.replace(/^\(SSH\) /, "")}); sshd's MaxSessions may be reached. The command did not run; the connection stays open`,
            { directorId: d.id, argv: [...argv], reason: why },
          ),
        );
      };
      const lost = (e: unknown) => {
        // The connection is unusable: evict it so the next command opens a fresh one.
        if (this.client === client) {
          this.client = null;
          client.end();
          // The director's session ran through the jump host's: end that one too, or every
          // eviction would leave a session to the bastion open (kept alive by keepalive).
          this.jump?.end();
          this.jump = null;
        }
        finish(connectError(e, d.id, d, "director"));
      };
      try {
        client.exec(command, (err, ch) => {
          // A refusal of this one channel (numeric reason from CHANNEL_OPEN_FAILURE, or the
          // exec request turned down) says nothing about the connection: other commands on
          // it keep running. Anything else means the connection is gone.
          if (err && "reason" in err && typeof err.reason === "number")
            return refused(err, err.reason);
          if (err?.message === "Unable to exec") return refused(err, null);
          if (err) return lost(err);
          if (signal.aborted) {
            ch.close();
            return;
          }
          channel = ch;
          this.commands++;
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let size = 0;
          const collect = (into: Buffer[]) => (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.options.maxOutputBytes) {
              ch.close();
              finish(
                new ConsoleError(
                  "COMMAND_FAILED",
                  `${argv[0] ?? "the command"} printed more than ${this.options.maxOutputBytes} bytes`,
                  {
                    directorId: d.id,
                    argv: [...argv],
                    exitCode: null,
                    stderr: "",
                  },
                ),
              );
              return;
            }
            into.push(chunk);
          };
          ch.on("data", collect(out));
          ch.stderr.on("data", collect(errOut));
          ch.on("close", (code: number | null, signalName?: string) => {
            finish(null, {
              stdout: Buffer.concat(out).toString("utf8"),
              stderr: Buffer.concat(errOut).toString("utf8"),
              // Killed by a signal: report it like a shell would (128 + n is unknown here).
              exitCode: typeof code === "number" ? code : signalName ? 255 : -1,
            });
          });
          if (stdin !== undefined) ch.end(stdin);
          else ch.end();
        });
      } catch (e) {
        lost(e);
      }
    });
  }
}

export function createSshPool(overrides: Partial<PoolOptions> = {}): SshPool {
  const options: PoolOptions = { ...DEFAULT_POOL_OPTIONS, ...overrides };
  const connections = new Map<string, DirectorConnection>();

  const entry = (director: SshTarget): DirectorConnection => {
    const key = poolKey(director);
    let conn = connections.get(key);
    if (!conn) {
      // A director whose address or login changed (config reload) gets a fresh connection.
      for (const [otherKey, other] of connections) {
        if (other.director.id === director.id) {
          other.close();
          connections.delete(otherKey);
        }
      }
      conn = new DirectorConnection(director, options);
      connections.set(key, conn);
    }
    return conn;
  };
  const byId = (directorId: string) =>
    [...connections.values()].find((c) => c.director.id === directorId);

  const exec: SshPool["exec"] = async (director, argv, opts = {}) => {
    const command = commandLine(argv, { sudo: director.sudo });
    return entry(director).run(command, argv, opts);
  };

  return {
    exec,
    async execChecked(director, argv, opts) {
      const result = await exec(director, argv, opts);
      if (result.exitCode !== 0) {
        const firstLine = result.stderr.trim().split("\n")[0] ?? "";
        throw new ConsoleError(
          "COMMAND_FAILED",
          `${argv.join(" ").slice(0, 200)} failed on ${director.id} with exit code ${result.exitCode}${firstLine ? `: ${firstLine}` : ""}`,
          {
            directorId: director.id,
            argv: [...argv],
            exitCode: result.exitCode,
            stderr: result.stderr,
            stdout: result.stdout.slice(0, 4000),
          },
        );
      }
      return result;
    },
    execScript(director, script, opts = {}) {
      const { args = [], ...rest } = opts;
      const command = scriptCommandLine(script, args, { sudo: director.sudo });
      return entry(director).run(command, ["sh", "-c", script, "sh", ...args], rest);
    },
    stats(directorId) {
      const conn = byId(directorId);
      if (!conn) return { connects: 0, commands: 0, inFlight: 0, queued: 0, state: "idle" };
      return {
        connects: conn.connects,
        commands: conn.commands,
        inFlight: conn.slots.inUse,
        queued: conn.slots.queued,
        state: conn.state,
      };
    },
    resetBackoff(directorId) {
      byId(directorId)?.resetBackoff();
    },
    close(directorId) {
      for (const [key, conn] of connections) {
        if (conn.director.id === directorId) {
          conn.close();
          connections.delete(key);
        }
      }
    },
    closeAll() {
      for (const conn of connections.values()) conn.close();
      connections.clear();
    },
  };
}

const globalForPool = globalThis as typeof globalThis & { __lvsConsoleSshPool?: SshPool };

/** The process-wide pool (cached on globalThis so dev reloads do not leak connections). */
export function getSshPool(): SshPool {
  globalForPool.__lvsConsoleSshPool ??= createSshPool();
  return globalForPool.__lvsConsoleSshPool;
}
