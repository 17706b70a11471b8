/**
 * The framing of the long-lived remote shell (shell.ts): what is written to the shell's
 * stdin and how its stdout and stderr are cut back into one result per command.
 *
 * Each command is ONE quoted word (quote.ts shellQuote) handed to a shell function,
 * `lvs_run TOKEN 'COMMAND LINE'`: whatever the command line holds, the shell reads that
 * request to its end before running anything, so a command cannot eat the next request
 * or leave the parser half way through a quote. The function runs the command line in a
 * subshell (a command's `exit`, `set -e`, `cd`, traps and variables end with it) with
 * stdin from /dev/null (a command reading stdin would read the next request), then prints
 * the exit status. Output is cut at markers made of a random token per command: the
 * command never sees the token (it is unset in the subshell), so no output, however
 * hostile, can forge the end of a frame. Each stream has its own start and end marker;
 * bytes before the start marker (a background process of an earlier command writing
 * late) are dropped.
 *
 * Pure: no ssh2, no I/O, so the framing is unit-tested against hostile outputs.
 */
import { randomBytes } from "node:crypto";
import { shellQuote } from "./quote";

/** The exec request that starts the shell: the login shell replaces itself by /bin/sh. */
export const SHELL_COMMAND = "exec /bin/sh";

const READY = "lvs-shell-ready";

/**
 * Written once when the shell opens. The shell answers `lvs-shell-ready PGID`: the process
 * group of the shell and of every command it runs (sshd makes the session a process group
 * of its own), read from /proc with builtins only, for killing a command that timed out.
 */
export const SHELL_PRELUDE = `LC_ALL=C; export LC_ALL
lvs_run() {
lvs_t=$1; lvs_c=$2; shift 2
printf '%s start\\n' "$lvs_t"; printf '%s start\\n' "$lvs_t" >&2
(unset lvs_t lvs_x; eval "$lvs_c") </dev/null
lvs_x=$?
printf '\\n%s end %s\\n' "$lvs_t" "$lvs_x"; printf '\\n%s end\\n' "$lvs_t" >&2
}
lvs_pg=$$
if read -r lvs_s </proc/$$/stat 2>/dev/null; then lvs_s=\${lvs_s##*) }; set -- $lvs_s; lvs_pg=$3; set --; fi
printf '${READY} %s\\n' "$lvs_pg"
`;

const TOKEN = /^lvs-[0-9a-f]{32}$/;

/** A fresh random token for one command (128 bits: no output guesses it). */
export function newToken(): string {
  return `lvs-${randomBytes(16).toString("hex")}`;
}

/** The request line for one command line (built by quote.ts commandLine / scriptCommandLine). */
export function frameRequest(token: string, command: string): string {
  if (!TOKEN.test(token)) throw new RangeError("not a frame token");
  return `${shellQuote(["lvs_run", token, command])}\n`;
}

/** The shell's process group from its ready line, or null while the line is incomplete. */
export function parseReady(stdout: Buffer): { pgid: number; rest: Buffer } | null {
  const at = stdout.indexOf(`${READY} `);
  if (at < 0) return null;
  const end = stdout.indexOf("\n", at);
  if (end < 0) return null;
  const pgid = Number(stdout.subarray(at + READY.length + 1, end).toString("latin1"));
  return {
    pgid: Number.isInteger(pgid) && pgid > 1 ? pgid : 0,
    rest: stdout.subarray(end + 1),
  };
}

/** A byte buffer that grows by doubling: appending a chunk is amortised O(chunk). */
class Bytes {
  private buf = Buffer.alloc(0);
  length = 0;

  append(chunk: Buffer): void {
    if (this.length + chunk.length > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.length + chunk.length, this.buf.length * 2, 4096));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    chunk.copy(this.buf, this.length);
    this.length += chunk.length;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** One stream of one command: found its start marker, then its end marker. */
class StreamFrame {
  private readonly start: Buffer;
  private readonly end: Buffer;
  private readonly bytes = new Bytes();
  private started = false;
  /** Where the search for the end marker resumes (it may straddle two chunks). */
  private searchFrom = 0;
  body: Buffer | null = null;
  exitCode: number | null = null;

  constructor(
    token: string,
    private readonly withExitCode: boolean,
  ) {
    this.start = Buffer.from(`${token} start\n`);
    this.end = Buffer.from(`\n${token} end`);
  }

  get done(): boolean {
    return this.body !== null;
  }

  /** Bytes held for this command (before its end is found), for the output cap. */
  get size(): number {
    return this.body?.length ?? this.bytes.length;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.done) return chunk;
    this.bytes.append(chunk);
    let view = this.bytes.view();
    if (!this.started) {
      const at = view.indexOf(this.start);
      if (at < 0) return null;
      this.started = true;
      const after = Buffer.from(view.subarray(at + this.start.length));
      this.bytes.length = 0;
      this.bytes.append(after);
      view = this.bytes.view();
    }
    const at = view.indexOf(this.end, this.searchFrom);
    if (at < 0) {
      this.searchFrom = Math.max(0, view.length - this.end.length);
      return null;
    }
    const tail = view.subarray(at + this.end.length);
    const nl = tail.indexOf("\n");
    if (nl < 0) {
      this.searchFrom = at;
      return null;
    }
    const trailer = tail.subarray(0, nl).toString("latin1");
    if (this.withExitCode) {
      const m = /^ (\d+)$/.exec(trailer);
      this.exitCode = m ? Number(m[1]) : -1;
    }
    this.body = Buffer.from(view.subarray(0, at));
    return Buffer.from(tail.subarray(nl + 1));
  }
}

export interface FramedResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** Cuts one command's result out of the shell's two streams. */
export class FrameReader {
  private readonly out: StreamFrame;
  private readonly err: StreamFrame;

  constructor(
    token: string,
    private readonly maxOutputBytes: number,
  ) {
    this.out = new StreamFrame(token, true);
    this.err = new StreamFrame(token, false);
  }

  pushStdout(chunk: Buffer): void {
    this.out.push(chunk);
  }

  pushStderr(chunk: Buffer): void {
    this.err.push(chunk);
  }

  /** The command printed more than the cap (stdout and stderr together). */
  get overflow(): boolean {
    // Room for a marker that has arrived only in part.
    const slack = this.out.done && this.err.done ? 0 : 128;
    return this.out.size + this.err.size > this.maxOutputBytes + slack;
  }

  result(): FramedResult | null {
    if (!this.out.body || !this.err.body || this.overflow) return null;
    return { stdout: this.out.body, stderr: this.err.body, exitCode: this.out.exitCode ?? -1 };
  }
}
