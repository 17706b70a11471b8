/**
 * One SSH connection to one director (through its jump host if it has one): opened on
 * demand, host key checked strictly (host-keys.ts: ssh2 accepts any by default), kept
 * alive, evicted when it drops and re-opened with exponential backoff between failures.
 */
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { JumpHostConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { directorLog } from "@/server/log";
import { backoffDelay } from "./backoff";
import { authConfig, credentialOf } from "./credentials";
import { abortError, connectError, type Endpoint } from "./errors";
import { preferredKeyTypes, verifyHostKey, type HostKeyTarget } from "./host-keys";
import type { ConnectionState, PoolOptions, SshTarget } from "./types";

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

export function once<T extends unknown[]>(fn: (...args: T) => void): (...args: T) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
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

/** The connection to one director and its history of failures. */
export class SshConnection {
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
  connects = 0;

  constructor(
    readonly director: SshTarget,
    private readonly options: PoolOptions,
  ) {}

  get state(): ConnectionState {
    if (this.client) return "ready";
    if (this.connecting) return "connecting";
    if (this.failures > 0) return "backoff";
    return this.connects > 0 ? "closed" : "idle";
  }

  /** The open connection, if there is one. */
  get current(): Client | null {
    return this.client;
  }

  resetBackoff(): void {
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.lastError = null;
  }

  /** An open connection, opening one if needed; honours the backoff after failures. */
  async connected(signal: AbortSignal, deadline: number): Promise<Client> {
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
        // A poll is one small request and one answer: Nagle would only hold the request.
        client.setNoDelay(true);
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

  /**
   * The connection proved unusable (a channel could not be opened on it): forget it so the
   * next command opens a fresh one. The director's session ran through the jump host's:
   * end that one too, or every eviction would leave a session to the bastion open.
   */
  evict(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.end();
    this.jump?.end();
    this.jump = null;
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
}
