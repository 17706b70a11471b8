/**
 * One SSH connection per director, reused for every command (a handshake costs about a
 * second against a small director; a command over an open connection a few ms plus the
 * command itself). The only importer of ssh2, with connection.ts (connection, jump host,
 * keepalive, backoff), credentials.ts, exec.ts (exec channels), shell.ts and frame.ts (the
 * long-lived remote shell) and errors.ts.
 *
 * - scripts (execScript: the polls' reads) run in one long-lived remote shell per
 *   director: no SSH session and no login shell per poll. A script that finds the shell
 *   busy, or that has stdin, takes an exec channel instead of waiting behind it;
 * - commands (exec, execChecked: changes, the connection table) run in exec channels, one
 *   SSH session each: at most 4 at a time per connection, the rest wait in FIFO order, so a
 *   change never waits behind the shell (the shell's session is not one of the 4);
 * - reads (lane "read": scripts by default, the connection table) hold at most 3 of the 4,
 *   so however many viewers read, a change (lane "change": commands by default, and the
 *   fresh reads an apply decides on) always finds a channel free or is next in line;
 * - output is capped per command: 8 MiB by default, more only where a command asks
 *   (the connection table, CONN_TABLE_MAX_OUTPUT_BYTES);
 * - every command has a timeout and an AbortSignal: either fails it with TIMEOUT and frees
 *   its channel (an exec channel is closed; the shell is closed, its process group killed,
 *   and the next script opens a new one);
 * - a channel the director refuses (sshd's MaxSessions) fails that command only,
 *   CHANNEL_REFUSED: the connection and the commands running on it are fine;
 * - AUTH_FAILED says who failed to log in where; which key file or passphrase variable is
 *   at fault goes to the server log and to admins (ConsoleError.adminDetail);
 * - host keys are checked strictly (server/ssh/host-keys.ts): ssh2 accepts any by default.
 */
import "server-only";
import type { Client } from "ssh2";
import { ConsoleError } from "@/server/errors";
import { commandFailed } from "@/server/ipvs/errors";
import { SshConnection } from "./connection";
import { abortError } from "./errors";
import { deadlineFor, execChannel } from "./exec";
import { commandLine, scriptCommandLine } from "./quote";
import { Semaphore } from "./semaphore";
import { RemoteShell } from "./shell";
import type {
  ConnectionStats,
  ExecOptions,
  ExecResult,
  PoolOptions,
  ScriptOptions,
  SshTarget,
} from "./types";

export type {
  ConnectionState,
  ConnectionStats,
  ExecOptions,
  ExecResult,
  PoolOptions,
  ScriptOptions,
  SshTarget,
} from "./types";
export { authFailed, connectError, type AuthFailure } from "./errors";

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
   * round trip, with LC_ALL=C (quote.ts scriptCommandLine), in the director's remote shell.
   * Never build `script` from input: pass values as `opts.args`.
   */
  execScript(director: SshTarget, script: string, opts?: ScriptOptions): Promise<ExecResult>;
  stats(directorId: string): ConnectionStats;
  /** Forgets the failures of a director so the next command connects at once (after trusting its key). */
  resetBackoff(directorId: string): void;
  close(directorId: string): void;
  closeAll(): void;
}

export const DEFAULT_POOL_OPTIONS: Omit<PoolOptions, "trust"> = {
  maxChannels: 4,
  readyTimeoutMs: 10_000,
  keepaliveIntervalMs: 10_000,
  keepaliveCountMax: 3,
  defaultTimeoutMs: 30_000,
  backoff: { baseMs: 1000, maxMs: 30_000 },
  reconnectIfUsedWithinMs: 60_000,
  maxOutputBytes: 8 * 1024 * 1024,
  shell: true,
};

/**
 * The cap for the one read that is large by nature: /proc/net/ip_vs_conn, about 130 bytes
 * an entry, so some 500k connections. ipvsadm and the console's scripts print far less:
 * the pool's 8 MiB default is theirs.
 */
export const CONN_TABLE_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Kills an abandoned shell's process group ($1): TERM first, which sudo passes on to a
 * command it runs as root, then KILL. Runs as the login user, never through sudo.
 */
const KILL_SCRIPT = `kill -TERM -- "-$1" 2>/dev/null; sleep 1; kill -KILL -- "-$1" 2>/dev/null; exit 0`;

function poolKey(d: SshTarget): string {
  return [d.id, d.host, d.port, d.user].join("\u0000");
}

/** The pool's entry for one director: its connection, exec slots, shell and counters. */
class DirectorEntry {
  readonly connection: SshConnection;
  readonly slots: Semaphore;
  /** Held by reads as well as a slot: one slot is always left for changes. */
  readonly readSlots: Semaphore;
  readonly shell: RemoteShell;
  /** A script holds the shell (set before the connection is awaited, so two never race). */
  shellInUse = false;
  commands = 0;
  execChannels = 0;
  shellsOpened = 0;

  constructor(
    readonly director: SshTarget,
    private readonly options: PoolOptions,
  ) {
    this.connection = new SshConnection(director, options);
    this.slots = new Semaphore(options.maxChannels);
    // A single channel cannot be split: then reads and changes share it in FIFO order.
    this.readSlots = new Semaphore(Math.max(1, options.maxChannels - 1));
    this.shell = new RemoteShell({
      director,
      evict: (client) => this.connection.evict(client),
      kill: (client, pgid) => this.kill(client, pgid),
      opened: () => void this.shellsOpened++,
      sent: () => void this.commands++,
    });
  }

  /** Whether a script can run in the shell now (else it takes an exec channel). */
  shellFree(opts: ExecOptions): boolean {
    return (
      this.options.shell && !this.shell.unsupported && !this.shellInUse && opts.stdin === undefined
    );
  }

  async runExec(
    command: string,
    argv: readonly string[],
    opts: ExecOptions,
    reply?: ScriptOptions["reply"],
  ): Promise<ExecResult> {
    const deadline = deadlineFor(this.director, argv, opts, this.options.defaultTimeoutMs);
    const releases: Array<() => void> = [];
    const acquire = (slots: Semaphore) =>
      slots.acquire(deadline.signal).then(
        (release) => void releases.push(release),
        (e: unknown) => {
          throw e instanceof ConsoleError ? e : abortError(deadline.signal);
        },
      );
    try {
      // The read slot first: a read waiting for one holds no channel a change could use.
      if ((opts.lane ?? "change") === "read") await acquire(this.readSlots);
      await acquire(this.slots);
      const client = await this.connection.connected(deadline.signal, deadline.at);
      return await execChannel(client, command, argv, opts.stdin, deadline.signal, {
        director: this.director,
        maxOutputBytes: opts.maxOutputBytes ?? this.options.maxOutputBytes,
        evict: (c) => this.connection.evict(c),
        opened: () => {
          this.commands++;
          this.execChannels++;
        },
        ...(reply ? { reply } : {}),
      });
    } finally {
      deadline.dispose();
      for (const release of releases.reverse()) release();
    }
  }

  async runShell(command: string, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    this.shellInUse = true;
    const deadline = deadlineFor(this.director, argv, opts, this.options.defaultTimeoutMs);
    try {
      const client = await this.connection.connected(deadline.signal, deadline.at);
      return await this.shell.run(client, command, argv, deadline.signal, {
        maxOutputBytes: opts.maxOutputBytes ?? this.options.maxOutputBytes,
      });
    } finally {
      deadline.dispose();
      this.shellInUse = false;
    }
  }

  private kill(client: Client, pgid: number): void {
    // Only over the connection the shell ran on: a new one means sshd has ended that session.
    if (this.connection.current !== client) return;
    const command = scriptCommandLine(KILL_SCRIPT, [String(pgid)]);
    // Lane "change": cleaning up must not queue behind the reads of a busy director.
    this.runExec(command, ["kill", `-${pgid}`], { timeoutMs: 10_000, lane: "change" }).catch(
      () => undefined,
    );
  }

  close(): void {
    this.shell.close();
    this.connection.close();
  }
}

export function createSshPool(
  overrides: Partial<PoolOptions> & Pick<PoolOptions, "trust">,
): SshPool {
  const options: PoolOptions = { ...DEFAULT_POOL_OPTIONS, ...overrides };
  // By director id, one entry each (a lookup per poll, 250 a second at 500 directors).
  const entries = new Map<string, { key: string; entry: DirectorEntry }>();

  const entry = (director: SshTarget): DirectorEntry => {
    const key = poolKey(director);
    const found = entries.get(director.id);
    if (found?.key === key) return found.entry;
    // A director whose address or login changed (config reload) gets a fresh connection.
    found?.entry.close();
    const fresh = new DirectorEntry(director, options);
    entries.set(director.id, { key, entry: fresh });
    return fresh;
  };
  const byId = (directorId: string) => entries.get(directorId)?.entry;

  const exec: SshPool["exec"] = async (director, argv, opts = {}) => {
    const command = commandLine(argv, { sudo: director.sudo });
    return entry(director).runExec(command, argv, opts);
  };

  return {
    exec,
    async execChecked(director, argv, opts) {
      const result = await exec(director, argv, opts);
      if (result.exitCode !== 0) {
        const firstLine = result.stderr.trim().split("\n")[0] ?? "";
        throw commandFailed(
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
      const { args = [], lane = "read", rootShell = false, reply, ...other } = opts;
      const rest = { ...other, lane };
      const command = scriptCommandLine(script, args, { sudo: director.sudo, rootShell });
      const argv = ["sh", "-c", script, "sh", ...args];
      const e = entry(director);
      if (reply) return e.runExec(command, argv, rest, reply);
      return e.shellFree(rest) ? e.runShell(command, argv, rest) : e.runExec(command, argv, rest);
    },
    stats(directorId) {
      const e = byId(directorId);
      if (!e) {
        return {
          connects: 0,
          commands: 0,
          execChannels: 0,
          shellsOpened: 0,
          inFlight: 0,
          queued: 0,
          state: "idle",
        };
      }
      return {
        connects: e.connection.connects,
        commands: e.commands,
        execChannels: e.execChannels,
        shellsOpened: e.shellsOpened,
        inFlight: e.slots.inUse + (e.shellInUse ? 1 : 0),
        queued: e.slots.queued,
        state: e.connection.state,
      };
    },
    resetBackoff(directorId) {
      byId(directorId)?.connection.resetBackoff();
    },
    close(directorId) {
      byId(directorId)?.close();
      entries.delete(directorId);
    },
    closeAll() {
      for (const { entry } of entries.values()) entry.close();
      entries.clear();
    },
  };
}
