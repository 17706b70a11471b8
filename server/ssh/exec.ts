/**
 * Exec channels: one SSH session per command (sshd starts the login user's shell with the
 * command line), and the deadline every command runs under, whichever channel carries it.
 *
 * - the timeout and the caller's AbortSignal abort one signal: the channel closes and the
 *   command rejects with TIMEOUT (details.cancelled when the caller gave up);
 * - a channel the director refuses (sshd's MaxSessions, shared with other clients of the
 *   same login) fails that command only, CHANNEL_REFUSED: the connection and the commands
 *   running on it are fine;
 * - output beyond the cap fails the command (COMMAND_FAILED) instead of eating memory.
 */
import type { Client, ClientChannel } from "ssh2";
import { commandFailed } from "@/server/ipvs/errors";
import { ConsoleError } from "@/server/errors";
import { once } from "./connection";
import { abortError, CHANNEL_OPEN_FAILURES, connectError } from "./errors";
import type { ExecOptions, ExecResult, SshTarget } from "./types";

export interface Deadline {
  signal: AbortSignal;
  /** Epoch ms after which the command has failed. */
  at: number;
  dispose(): void;
}

/** One signal for the command's timeout and its caller's abort, with errors that name it. */
export function deadlineFor(
  director: SshTarget,
  argv: readonly string[],
  opts: Pick<ExecOptions, "timeoutMs" | "signal">,
  defaultTimeoutMs: number,
): Deadline {
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const what = argv[0] ?? "the command";
  const cancel = new AbortController();
  const timer = setTimeout(() => {
    cancel.abort(
      new ConsoleError(
        "TIMEOUT",
        `${what} on ${director.id} did not finish within ${timeoutMs} ms`,
        { directorId: director.id, argv: [...argv], timeoutMs },
      ),
    );
  }, timeoutMs);
  const onCallerAbort = () =>
    cancel.abort(
      new ConsoleError("TIMEOUT", `${what} on ${director.id} was cancelled`, {
        directorId: director.id,
        argv: [...argv],
        cancelled: true,
      }),
    );
  if (opts.signal?.aborted) onCallerAbort();
  else opts.signal?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: cancel.signal,
    at: Date.now() + timeoutMs,
    dispose() {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

export function outputTooLarge(
  director: SshTarget,
  argv: readonly string[],
  maxOutputBytes: number,
): ConsoleError {
  return commandFailed(`${argv[0] ?? "the command"} printed more than ${maxOutputBytes} bytes`, {
    directorId: director.id,
    argv: [...argv],
    exitCode: null,
    stderr: "",
  });
}

/** What opening a session channel failed with: this channel only, or the whole connection. */
export function channelOpenError(
  director: SshTarget,
  argv: readonly string[],
  err: Error,
): ConsoleError | null {
  // A refusal of this one channel (numeric reason from CHANNEL_OPEN_FAILURE, or the exec
  // request turned down) says nothing about the connection: other commands on it go on.
  let reason: unknown;
  if ("reason" in err && typeof err.reason === "number") reason = err.reason;
  else if (err.message === "Unable to exec") reason = null;
  else return null;
  const why = CHANNEL_OPEN_FAILURES[typeof reason === "number" ? reason : 0] ?? "refused";
  return new ConsoleError(
    "CHANNEL_REFUSED",
    `${director.id} refused to run ${argv[0] ?? "the command"} (${why}: ${err.message.replace(/^\(SSH\) /, "")}); sshd's MaxSessions may be reached. The command did not run; the connection stays open`,
    { directorId: director.id, argv: [...argv], reason: why },
  );
}

export interface ExecChannelContext {
  director: SshTarget;
  maxOutputBytes: number;
  /** The connection is unusable: evict it so the next command opens a fresh one. */
  evict(client: Client): void;
  /** Counts the channel once the director opened it. */
  opened(): void;
  /** A dialog: see ScriptOptions.reply (then `stdin` is not used). */
  reply?: (stdoutSoFar: string) => Promise<string> | null;
}

/** Opens an exec channel, runs the command line, waits for its close and exit code. */
export function execChannel(
  client: Client,
  command: string,
  argv: readonly string[],
  stdin: string | Buffer | undefined,
  signal: AbortSignal,
  ctx: ExecChannelContext,
): Promise<ExecResult> {
  const d = ctx.director;
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
    const lost = (e: unknown) => {
      ctx.evict(client);
      finish(connectError(e, d.id, d, "director"));
    };
    try {
      client.exec(command, (err, ch) => {
        if (err) {
          const refused = channelOpenError(d, argv, err);
          return refused ? finish(refused) : lost(err);
        }
        if (signal.aborted) {
          ch.close();
          return;
        }
        channel = ch;
        ctx.opened();
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let size = 0;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          size += chunk.length;
          if (size > ctx.maxOutputBytes) {
            ch.close();
            finish(outputTooLarge(d, argv, ctx.maxOutputBytes));
            return;
          }
          into.push(chunk);
        };
        let asked = false;
        ch.on("data", (chunk: Buffer) => {
          collect(out)(chunk);
          if (!ctx.reply || asked) return;
          const answer = ctx.reply(Buffer.concat(out).toString("utf8"));
          if (!answer) return;
          asked = true;
          // The answer ends stdin: the script reads one line. A failed answer ends it bare,
          // which the script reads as "no".
          const end = (line?: string) => {
            if (!signal.aborted) ch.end(line);
          };
          answer.then(
            (line) => end(line),
            () => end(),
          );
        });
        ch.stderr.on("data", collect(errOut));
        ch.on("close", (code: number | null, signalName?: string) => {
          finish(null, {
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8"),
            // Killed by a signal: report it like a shell would (128 + n is unknown here).
            exitCode: typeof code === "number" ? code : signalName ? 255 : -1,
          });
        });
        if (ctx.reply) return;
        if (stdin !== undefined) ch.end(stdin);
        else ch.end();
      });
    } catch (e) {
      lost(e);
    }
  });
}
