/**
 * The framing of the long-lived remote shell (shell.ts): what is written to the shell's
 * stdin and how its answer is cut back into one result per command.
 *
 * Each command is ONE quoted word (quote.ts shellQuote) handed to a shell function,
 * `lvs_run TOKEN 'COMMAND LINE'`: whatever the command line holds, the shell reads that
 * request to its end before running anything, so a command cannot eat the next request
 * or leave the parser half way through a quote. The function runs the command line in a
 * command substitution (a subshell: a command's `exit`, `set -e`, `cd`, traps and
 * variables end with it) with stdin from /dev/null (a command reading stdin would read the
 * next request) and stderr to a file of the shell's own (mktemp), then prints ONE answer
 * on stdout:
 *
 *     TOKEN start\n STDOUT \nTOKEN err\n STDERR \nTOKEN end EXIT\n
 *
 * The token is random per command and the command never sees it (it is unset in the
 * subshell), so no output, however hostile, can forge a marker. Bytes before the start
 * marker (a background process of an earlier command writing late) are dropped.
 *
 * Why one answer at the end, not the output as it comes: sshd sets no TCP_NODELAY for a
 * session without a terminal, so a small segment (a marker, a section header) that waits
 * for the console's delayed ACK holds every later small segment back by 40 ms. One write
 * per command leaves Nagle nothing to hold. The price: the answer is text (a shell
 * variable holds no NUL byte, so NULs are dropped), and stderr is read back line by line.
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
 * The EXIT trap inside the substitution prints a sentinel, so trailing newlines survive
 * the substitution (and `exit N` too), after the background jobs it waits for.
 */
export const SHELL_PRELUDE = `LC_ALL=C; export LC_ALL
lvs_ef=$(mktemp 2>/dev/null) || lvs_ef=/dev/null
trap 'rm -f "$lvs_ef"' EXIT
lvs_run() {
lvs_t=$1; lvs_c=$2; shift 2
lvs_o=$(unset lvs_t lvs_o lvs_e lvs_x lvs_l; trap 'lvs_x=$?; wait; printf lvs-eof; exit "$lvs_x"' EXIT; eval "$lvs_c" </dev/null 2>"$lvs_ef")
lvs_x=$?
lvs_o=\${lvs_o%lvs-eof}
lvs_e=
if [ -s "$lvs_ef" ]; then
while IFS= read -r lvs_l || [ -n "$lvs_l" ]; do lvs_e="$lvs_e$lvs_l
"; done <"$lvs_ef"
fi
printf '%s start\n%s\n%s err\n%s\n%s end %s\n' "$lvs_t" "$lvs_o" "$lvs_t" "$lvs_e" "$lvs_t" "$lvs_x"
}
lvs_pg=$$
if read -r lvs_s </proc/$$/stat 2>/dev/null; then lvs_s=\${lvs_s##*) }; set -- $lvs_s; lvs_pg=$3; set --; fi
printf '${READY} %s\n' "$lvs_pg"
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

export interface FramedResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** Cuts one command's answer out of the shell's stdout. */
export class FrameReader {
  private readonly start: Buffer;
  private readonly err: Buffer;
  private readonly end: Buffer;
  private readonly bytes = new Bytes();
  private started = false;
  /** Where the search for the end marker resumes (it may straddle two chunks). */
  private searchFrom = 0;
  private done: FramedResult | null = null;

  constructor(
    token: string,
    private readonly maxOutputBytes: number,
  ) {
    this.start = Buffer.from(`${token} start\n`);
    this.err = Buffer.from(`\n${token} err\n`);
    this.end = Buffer.from(`\n${token} end `);
  }

  /** The answer is larger than the cap (with room for markers that arrived in part). */
  get overflow(): boolean {
    if (this.done) return this.done.stdout.length + this.done.stderr.length > this.maxOutputBytes;
    return this.bytes.length > this.maxOutputBytes + 256;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    this.bytes.append(chunk);
    let view = this.bytes.view();
    if (!this.started) {
      const at = view.indexOf(this.start);
      if (at < 0) {
        // Keep only what may be the start of the marker.
        const keep = Buffer.from(view.subarray(Math.max(0, view.length - this.start.length)));
        this.bytes.length = 0;
        this.bytes.append(keep);
        return;
      }
      this.started = true;
      const after = Buffer.from(view.subarray(at + this.start.length));
      this.bytes.length = 0;
      this.bytes.append(after);
      view = this.bytes.view();
    }
    const at = view.indexOf(this.end, this.searchFrom);
    if (at < 0) {
      this.searchFrom = Math.max(0, view.length - this.end.length);
      return;
    }
    const nl = view.indexOf("\n", at + this.end.length);
    if (nl < 0) {
      this.searchFrom = at;
      return;
    }
    const body = view.subarray(0, at);
    const split = body.lastIndexOf(this.err);
    if (split < 0) {
      this.searchFrom = nl;
      return;
    }
    const code = /^\d+$/.test(view.subarray(at + this.end.length, nl).toString("latin1"))
      ? Number(view.subarray(at + this.end.length, nl).toString("latin1"))
      : -1;
    this.done = {
      stdout: Buffer.from(body.subarray(0, split)),
      stderr: Buffer.from(body.subarray(split + this.err.length)),
      exitCode: code,
    };
  }

  result(): FramedResult | null {
    return this.overflow ? null : this.done;
  }
}
