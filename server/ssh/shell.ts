/**
 * One long-lived remote shell per director connection: a poll's script is written to its
 * stdin and its output framed (frame.ts), so a poll opens no SSH session and starts no
 * login shell. One command at a time; the pool sends a script that finds the shell busy
 * down an exec channel instead of queueing it behind.
 *
 * What the exec channel guarantees holds here too: the command line comes from quote.ts
 * (LC_ALL=C, `sudo -n` for a sudo director), the deadline's timeout and abort, the output
 * cap and the exit code per command. A command that times out, is cancelled or prints too
 * much is not waited for: the shell is abandoned (its channel closed, its process group
 * killed over an exec channel) and the next command opens a new one, so a stuck command
 * never poisons the commands after it. When the shell or the connection dies during a
 * command, that command fails (COMMAND_FAILED or UNREACHABLE) and the next one reopens.
 * The shell runs as the login user; under `sudo -n` its kill reaches sudo, which passes
 * TERM to the program it runs, not to that program's children (a root `sh -c` script's
 * commands then run to their end: the shell is gone all the same).
 */
import type { Client, ClientChannel } from "ssh2";
import { commandFailed } from "@/server/ipvs/errors";
import { ConsoleError } from "@/server/errors";
import { abortError, connectError } from "./errors";
import { channelOpenError, outputTooLarge } from "./exec";
import {
  FrameReader,
  frameRequest,
  newToken,
  parseReady,
  SHELL_COMMAND,
  SHELL_PRELUDE,
} from "./frame";
import type { ExecResult, SshTarget } from "./types";

export interface ShellContext {
  director: SshTarget;
  /** The connection is unusable: evict it so the next command opens a fresh one. */
  evict(client: Client): void;
  /** Kills what is left of an abandoned shell: its process group, over an exec channel. */
  kill(client: Client, pgid: number): void;
  /** Counts a shell the director opened. */
  opened(): void;
  /** Counts a command written to the shell. */
  sent(): void;
}

/** How the shell's channel ended: an exit status means the shell died, none the connection. */
interface Ended {
  code: number | null;
  signal: string | null;
}

interface Listener {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  closed(ended: Ended): void;
}

export class RemoteShell {
  private channel: ClientChannel | null = null;
  private client: Client | null = null;
  private pgid = 0;
  private listener: Listener | null = null;
  /** The director cannot run the shell (its login shell is no POSIX shell?): use exec channels. */
  unsupported = false;
  busy = false;

  constructor(private readonly ctx: ShellContext) {}

  /** Runs one command line; the caller checks `busy` first and counts the command. */
  async run(
    client: Client,
    command: string,
    argv: readonly string[],
    signal: AbortSignal,
    limits: { maxOutputBytes: number },
  ): Promise<ExecResult> {
    if (this.busy) throw new ConsoleError("INTERNAL", "the remote shell is busy");
    this.busy = true;
    try {
      if (!this.channel || this.client !== client) await this.open(client, signal);
      return await this.send(command, argv, signal, limits.maxOutputBytes);
    } finally {
      this.busy = false;
    }
  }

  /** Closes the shell; `kill` also kills what it still runs. */
  close(kill = false): void {
    const { channel, client, pgid } = this;
    this.channel = null;
    this.client = null;
    this.pgid = 0;
    this.listener = null;
    if (!channel) return;
    channel.close();
    if (kill && client && pgid > 0) this.ctx.kill(client, pgid);
  }

  private open(client: Client, signal: AbortSignal): Promise<void> {
    this.close();
    const d = this.ctx.director;
    const argv = ["sh"];
    return new Promise<void>((resolve, reject) => {
      let stdout = Buffer.alloc(0);
      let stderr = "";
      let settled = false;
      const settle = (error: ConsoleError | null) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        if (error) {
          this.close(true);
          reject(error);
        } else resolve();
      };
      const onAbort = () => settle(abortError(signal));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        client.exec(SHELL_COMMAND, (err, ch) => {
          if (err) {
            const refused = channelOpenError(d, argv, err);
            if (!refused) this.ctx.evict(client);
            return settle(refused ?? connectError(err, d.id, d, "director"));
          }
          if (settled) {
            ch.close();
            return;
          }
          this.channel = ch;
          this.client = client;
          this.attach(ch);
          this.ctx.opened();
          this.listener = {
            stdout: (chunk) => {
              stdout = Buffer.concat([stdout, chunk]);
              const ready = parseReady(stdout);
              if (!ready) return;
              this.pgid = ready.pgid;
              this.listener = null;
              settle(null);
            },
            stderr: (chunk) => {
              stderr = (stderr + chunk.toString("utf8")).slice(-4000);
            },
            closed: (ended) => {
              if (ended.code === null && ended.signal === null) {
                this.ctx.evict(client);
                return settle(
                  connectError(new Error("the connection closed"), d.id, d, "director"),
                );
              }
              // The login shell ran, but not ours: this director gets exec channels only.
              this.unsupported = true;
              settle(
                commandFailed(
                  `${d.id} could not start a remote shell (${SHELL_COMMAND})${stderr ? `: ${stderr.trim().split("\n")[0] ?? ""}` : ""}`,
                  { directorId: d.id, argv: [...argv], exitCode: ended.code, stderr },
                ),
              );
            },
          };
          ch.write(SHELL_PRELUDE);
        });
      } catch (e) {
        this.ctx.evict(client);
        settle(connectError(e, d.id, d, "director"));
      }
    });
  }

  /** Routes the channel's output to the listener of the moment; a replaced channel is muted. */
  private attach(ch: ClientChannel): void {
    ch.on("data", (chunk: Buffer) => {
      if (this.channel === ch) this.listener?.stdout(chunk);
    });
    ch.stderr.on("data", (chunk: Buffer) => {
      if (this.channel === ch) this.listener?.stderr(chunk);
    });
    // The shell ended (killed, or it exited): what it ran may live on, holding the channel
    // open. Fail the command now and kill the rest of its process group.
    ch.on("exit", (code: number | null, signalName?: string) => {
      if (this.channel !== ch) return;
      const listener = this.listener;
      this.close(true);
      listener?.closed({
        code: typeof code === "number" ? code : null,
        signal: signalName ?? null,
      });
    });
    // Closed without an exit status: the connection went away.
    ch.on("close", () => {
      if (this.channel !== ch) return;
      const listener = this.listener;
      this.channel = null;
      this.client = null;
      this.pgid = 0;
      this.listener = null;
      listener?.closed({ code: null, signal: null });
    });
  }

  private send(
    command: string,
    argv: readonly string[],
    signal: AbortSignal,
    maxOutputBytes: number,
  ): Promise<ExecResult> {
    const d = this.ctx.director;
    const ch = this.channel;
    const client = this.client;
    if (!ch || !client) return Promise.reject(new ConsoleError("INTERNAL", "no remote shell"));
    const token = newToken();
    const request = frameRequest(token, command);
    const reader = new FrameReader(token, maxOutputBytes);
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      const settle = (error: ConsoleError | null, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        if (this.channel === ch) this.listener = null;
        if (error) reject(error);
        else if (result) resolve(result);
      };
      const abandon = (error: ConsoleError) => {
        settle(error);
        if (this.channel === ch) this.close(true);
      };
      const onAbort = () => abandon(abortError(signal));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      const check = () => {
        if (reader.overflow) return abandon(outputTooLarge(d, argv, maxOutputBytes));
        const result = reader.result();
        if (!result) return;
        settle(null, {
          stdout: result.stdout.toString("utf8"),
          stderr: result.stderr.toString("utf8"),
          exitCode: result.exitCode,
        });
      };
      this.listener = {
        stdout: (chunk) => {
          reader.push(chunk);
          check();
        },
        // The command's stderr comes inside the answer; this is the shell's own.
        stderr: () => undefined,
        closed: (ended) => {
          if (ended.code === null && ended.signal === null) {
            this.ctx.evict(client);
            return settle(
              connectError(
                new Error("the connection closed during the command"),
                d.id,
                d,
                "director",
              ),
            );
          }
          const how = ended.signal ? `signal ${ended.signal}` : `exit code ${String(ended.code)}`;
          settle(
            commandFailed(
              `the remote shell on ${d.id} ended (${how}) while running ${argv[0] ?? "the command"}; the next command opens a new one`,
              { directorId: d.id, argv: [...argv], exitCode: null, stderr: "" },
              { shellEnded: how },
            ),
          );
        },
      };
      this.ctx.sent();
      ch.write(request);
    });
  }
}
