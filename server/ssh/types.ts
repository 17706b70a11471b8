/** The pool's public types (pool.ts re-exports them). */
import type { DirectorConfig } from "@/server/config";
import type { BackoffPolicy } from "./backoff";
import type { TrustStore } from "./host-keys";

export interface ExecOptions {
  /** Default 30 s; covers the wait for a free channel and for the connection. */
  timeoutMs?: number;
  signal?: AbortSignal;
  stdin?: string | Buffer;
  /**
   * This command's output cap (stdout and stderr together), when it must differ from the
   * pool's: only a read known to be large (the connection table) asks for more.
   */
  maxOutputBytes?: number;
  /**
   * "read" (default for scripts) or "change" (default for commands): reads may hold at most
   * maxChannels - 1 exec channels of a connection, so a change never queues behind them.
   */
  lane?: "read" | "change";
}

export interface ScriptOptions extends ExecOptions {
  /** Positional parameters ($1, $2, ...) of the script: the only way values reach it. */
  args?: readonly string[];
  /**
   * On a sudo director, run the whole script as root (`sudo -n -- sh -c`): only for what a
   * sudoers rule limited to single programs cannot do (quote.ts scriptCommandLine).
   */
  rootShell?: boolean;
  /**
   * A dialog with the script (exec channel only, never the shared shell): called with the
   * output so far on every chunk until it returns an answer; the answer (a promise) is
   * written to the script's stdin, which is then closed. The apply script asks "go?" this
   * way while it holds the director's lock.
   */
  reply?: (stdoutSoFar: string) => Promise<string> | null;
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
  /**
   * Commands sent to the director since the pool started: exec channels opened plus
   * commands run by the long-lived shell.
   */
  commands: number;
  /** Exec channels opened since the pool started (each one an SSH session and a login shell). */
  execChannels: number;
  /** Long-lived shells opened since the pool started (one SSH session each). */
  shellsOpened: number;
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
  /**
   * Larger outputs fail the command instead of eating the console's memory: the cap of
   * every command that does not set its own (ExecOptions.maxOutputBytes).
   */
  maxOutputBytes: number;
  /**
   * Scripts (execScript) run in one long-lived remote shell per director instead of an exec
   * channel each: no SSH session and no login shell per poll. Default true.
   */
  shell: boolean;
  trust: TrustStore;
}
