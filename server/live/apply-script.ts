/**
 * One director's apply is ONE remote script, so the version check and the commands are one
 * step on the director:
 *   flock on the lock file the owner-file transaction takes too (runtime and lasting
 *   changes exclude each other; so do two consoles, or a console and a script that takes
 *   the same lock) -> a full read of the rules, printed -> "ready", then one line on stdin:
 *   the console parses that read exactly as it parses a poll, compares its version with the
 *   one it planned on, and answers "go" or anything else (nothing runs) -> the commands, in
 *   order, stopping at the first failure, each with its exit code and stderr -> a full read
 *   again, for verification, still under the lock.
 * The lock is the fd 9 of the script: it goes when the script ends, however it ends. A
 * login without write access to the lock file (a sudo director's user) locks it through a
 * read-only fd; flock(2) does not care. The commands come as command lines quoted by
 * quote.ts (the one quoting function) and are run with eval, as sshd would run them.
 *
 * Pure: the script text, its arguments and the reader of its output.
 */
import { SNAPSHOT_SCRIPT } from "./snapshot-script";

const MARK = "@@lvs-console:apply:4d2b@@";

export const APPLY_SCRIPT = `am='${MARK}'
say() { printf '%s %s\\n' "$am" "$*"; }
ms() { date +%s%3N; }
dump() {
${SNAPSHOT_SCRIPT}}
lock=$1; wait=$2; tun=$3; shift 3
if ( : >>"$lock" ) 2>/dev/null; then exec 9>>"$lock"
elif [ -r "$lock" ]; then exec 9<"$lock"
else say result lock-failed; exit 0; fi
t0=$(ms)
flock -w "$wait" 9 || { say result lock-busy; exit 0; }
say locked $(($(ms) - t0))
say begin before
dump full "$tun" 0
say end before
say ready
go=; read -r go
[ "$go" = go ] || { say result aborted; exit 0; }
i=0
for c in "$@"; do
  err=$( { eval "$c" >/dev/null; } 2>&1 ); rc=$?
  say begin step; printf '%s\\n' "$err"; say end step
  say exit $i $rc
  [ $rc -eq 0 ] || break
  i=$((i + 1))
done
say begin after
dump full "$tun" 0
say end after
say result done
`;

/** The shared lock file (server/ipvs/lasting/tx-script.ts takes it too). */
export { TX_LOCK as APPLY_LOCK } from "@/server/ipvs/lasting/tx-script";

export interface ApplyScriptInput {
  lock: string;
  /** Seconds to wait for the lock before giving up (lock-busy). */
  lockWaitSeconds: number;
  /** Read --tun-info too (the director has, or may get, tunnel members). */
  tunnels: boolean;
  /** One command line per step, from quote.ts scriptLine. */
  commandLines: readonly string[];
}

export function applyArgs(input: ApplyScriptInput): string[] {
  return [
    input.lock,
    String(input.lockWaitSeconds),
    input.tunnels ? "1" : "0",
    ...input.commandLines,
  ];
}

/** What the console answers once it has read the locked state. */
export const GO = "go\n";
export const ABORT = "abort\n";

export type ApplyScriptResult =
  | "done"
  | "aborted"
  | "lock-busy"
  | "lock-failed"
  /** The output stopped before a result line (connection dropped, timeout). */
  | "incomplete";

export interface ApplyScriptStep {
  exitCode: number;
  stderr: string;
}

export interface ApplyScriptOutput {
  result: ApplyScriptResult;
  /** Milliseconds the script waited for the lock (null: it never got it). */
  lockWaitMs: number | null;
  /** The snapshot script's output read under the lock, before any command (null: not printed). */
  before: string | null;
  /** Whether the script asked for the answer (the "before" read is complete). */
  ready: boolean;
  /** The commands that ran, in order. */
  steps: ApplyScriptStep[];
  /** The read after the commands, still under the lock. */
  after: string | null;
}

/** The "before" read, as soon as the script printed "ready" (else null): what reply sees. */
export function readyRead(stdoutSoFar: string): string | null {
  const out = parseApplyOutput(stdoutSoFar);
  return out.ready ? out.before : null;
}

export function parseApplyOutput(stdout: string): ApplyScriptOutput {
  const out: ApplyScriptOutput = {
    result: "incomplete",
    lockWaitMs: null,
    before: null,
    ready: false,
    steps: [],
    after: null,
  };
  let block: { name: string; lines: string[] } | null = null;
  let stepErr = "";
  const lines = stdout.split("\n");
  // A last line without its newline may still be growing.
  if (!stdout.endsWith("\n")) lines.pop();
  for (const line of lines) {
    if (!line.startsWith(`${MARK} `)) {
      block?.lines.push(line);
      continue;
    }
    const [word = "", ...rest] = line.slice(MARK.length + 1).split(" ");
    if (word === "begin") block = { name: rest[0] ?? "", lines: [] };
    else if (word === "end" && block) {
      const text = block.lines.join("\n");
      if (block.name === "before") out.before = text;
      else if (block.name === "after") out.after = text;
      else stepErr = text;
      block = null;
    } else if (word === "locked") out.lockWaitMs = Number(rest[0]);
    else if (word === "ready") out.ready = true;
    else if (word === "exit") {
      out.steps.push({ exitCode: Number(rest[1]), stderr: stepErr.trim() });
      stepErr = "";
    } else if (word === "result") {
      const r = rest[0];
      out.result =
        r === "done" || r === "aborted" || r === "lock-busy" || r === "lock-failed"
          ? r
          : "incomplete";
    }
  }
  return out;
}
