/**
 * The owner-file transaction: ONE fixed sh script that, on one director, changes the files
 * keepalived reads and makes keepalived load them, or leaves everything as it was:
 *   flock -> every file still has the hash the plan was made on (else CONFLICT naming it)
 *   -> a copy of each (PATH.lvs-console.STAMP) -> atomic write (temp file in the same
 *   folder, mode and owner of the old file, fsync, mv) -> `keepalived -t -f CONFIG`
 *   -> reload (systemctl reload where systemd runs keepalived, else SIGHUP to the parent)
 *   -> poll `ipvsadm-save -n` every 50 ms until the kernel holds the expectation.
 * A failing check puts the files back byte for byte and never reloads; a failure after the
 * reload puts them back and reloads again. Every step prints its time, so callers can say
 * where the milliseconds went.
 *
 * Pure: the script text, its argv, and the reader of its output.
 */
import { createHash } from "node:crypto";

const MARK = "@@lvs-console:tx:9c1d@@";

export const TX_SCRIPT = `m='${MARK}'
lock=$1; conf=$2; stamp=$3; tries=$4; expect=$5; mode=$6; shift 6
say() { printf '%s %s\\n' "$m" "$*"; }
now() { date +%s%3N; }
t=$(now)
lap() { n=$(now); say time "$1" $((n - t)); t=$n; }
block() { say "begin $1"; printf '%s\\n' "$2"; say "end $1"; }
hash() { if [ -e "$1" ]; then sha256sum < "$1" | cut -c1-64; else echo absent; fi; }
written=
restore() {
  for p in $written; do
    b="$p.lvs-console.$stamp"
    if [ -e "$b" ]; then
      r=$(mktemp "\${p%/*}/.lvs-console.XXXXXX") && cp -p "$b" "$r" && mv -f "$r" "$p" || say restore-failed "$p"
    else
      rm -f "$p" || say restore-failed "$p"
    fi
  done
  sync
  say restored
}
pidof_parent() {
  for f in /run/keepalived.pid /var/run/keepalived.pid /run/keepalived/keepalived.pid; do
    [ -r "$f" ] || continue
    read -r p < "$f" 2>/dev/null || continue
    c=; read -r c < "/proc/$p/comm" 2>/dev/null
    [ "$c" = keepalived ] && { echo "$p"; return 0; }
  done
  return 1
}
reload() {
  if [ -d /run/systemd/system ] && systemctl is-active -q keepalived 2>/dev/null; then
    out=$(systemctl reload keepalived 2>&1) || { block stderr "$out"; return 1; }
    say reloaded systemd
  else
    pid=$(pidof_parent) || { block stderr "keepalived is not running (no live pid file)"; return 1; }
    out=$(kill -HUP "$pid" 2>&1) || { block stderr "$out"; return 1; }
    say reloaded "pid $pid"
  fi
}
matches() {
  ipvsadm-save -n 2>/dev/null | awk -v want="$expect" '
    BEGIN { n = split(want, e, "\\n") }
    { lines[++c] = $0 }
    END {
      for (i = 1; i <= n; i++) {
        x = substr(e[i], 2); k = substr(e[i], 1, 1)
        f = 0
        for (j = 1; j <= c; j++) if (lines[j] == x || index(lines[j], x " ") == 1) f = 1
        if ((k == "+" && !f) || (k == "-" && f)) exit 1
      }
    }'
}
waitkernel() {
  i=0
  while [ $i -lt "$tries" ]; do
    matches && return 0
    i=$((i + 1)); sleep 0.05
  done
  matches
}
exec 9>>"$lock" || { say result lock-failed; exit 0; }
flock -w 5 9 || { say result lock-busy; exit 0; }
k=0
for a in "$@"; do
  case $k in
    0) p=$a ;;
    1) h=$(hash "$p"); [ "$h" = "$a" ] || { say conflict "$p" "$h"; say result conflict; exit 0; } ;;
  esac
  k=$(((k + 1) % 3))
done
lap lock
k=0
for a in "$@"; do
  case $k in
    0) p=$a ;;
    2)
      d=\${p%/*}
      if [ -e "$p" ]; then cp -p "$p" "$p.lvs-console.$stamp" || { say result write-failed "$p"; restore; exit 0; }; fi
      written="$written $p"
      tmp=$(mktemp "$d/.lvs-console.XXXXXX") || { say result write-failed "$p"; restore; exit 0; }
      if ! { printf '%s' "$a" > "$tmp" && { [ ! -e "$p" ] || { chmod --reference="$p" "$tmp" && chown --reference="$p" "$tmp"; }; } && sync "$tmp" && mv -f "$tmp" "$p"; }; then
        rm -f "$tmp"; say result write-failed "$p"; restore; exit 0
      fi
      sync "$d" 2>/dev/null
      say written "$p"
      ;;
  esac
  k=$(((k + 1) % 3))
done
lap edit
if [ "$mode" = keepalived ]; then
  err=$(keepalived -t -f "$conf" 2>&1 >/dev/null); rc=$?
  lap check
  if [ $rc -ne 0 ]; then block stderr "$err"; say checkexit $rc; restore; say result check-failed; exit 0; fi
  if ! reload; then lap reload; restore; say result reload-failed; exit 0; fi
  lap reload
fi
if waitkernel; then
  lap verify
  say result ok
  exit 0
fi
lap verify
block kernel "$(ipvsadm-save -n 2>&1)"
restore
[ "$mode" = keepalived ] && { reload || say reload-back-failed; }
say result verify-timeout
`;

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** What the kernel must show after the reload, as lines of `ipvsadm-save -n`. */
export interface KernelExpectation {
  /** Some line is this, or starts with it and a space. */
  present: string[];
  /** Prefixes no line may start with (a removed member, a deleted service). */
  absent: string[];
}

export interface TxFile {
  path: string;
  /** sha256 of the text the plan was made on, or "absent" for a new file. */
  expectedHash: string;
  content: string;
}

export interface TxPlan {
  /** keepalived: check + reload; rules-file: just write (the kernel already holds it). */
  mode: "keepalived" | "rules-file";
  configPath: string;
  files: TxFile[];
  expect: KernelExpectation;
  /** Verify polls, 50 ms apart. */
  verifyTries: number;
  stamp: string;
}

export const TX_LOCK = "/run/lvs-console.lock";

/** The file timestamp of copies: 20261201T221501Z. */
export function txStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export function txArgs(plan: TxPlan): string[] {
  const expect = [
    ...plan.expect.present.map((l) => `+${l}`),
    ...plan.expect.absent.map((l) => `-${l}`),
  ].join("\n");
  return [
    TX_LOCK,
    plan.configPath,
    plan.stamp,
    String(plan.verifyTries),
    expect,
    plan.mode === "keepalived" ? "keepalived" : "rules",
    ...plan.files.flatMap((f) => [f.path, f.expectedHash, f.content]),
  ];
}

const TX_RESULTS = [
  "ok",
  "conflict",
  "lock-failed",
  "lock-busy",
  "write-failed",
  "check-failed",
  "reload-failed",
  "verify-timeout",
  "incomplete",
] as const;
export type TxResult = (typeof TX_RESULTS)[number];

export interface TxOutcome {
  result: TxResult;
  /** Step -> ms: lock, edit, check, reload, verify. */
  timings: Record<string, number>;
  written: string[];
  restored: boolean;
  /** Files that could not be put back: the operator must look. */
  restoreFailed: string[];
  conflict: { path: string; actualHash: string } | null;
  /** The checker's or reload's stderr. */
  stderr: string;
  /** The kernel when verification gave up. */
  kernel: string;
  detail: string;
}

/** Reads the script's output; a cut-off output (dropped connection) is "incomplete". */
export function parseTxOutput(stdout: string): TxOutcome {
  const out: TxOutcome = {
    result: "incomplete",
    timings: {},
    written: [],
    restored: false,
    restoreFailed: [],
    conflict: null,
    stderr: "",
    kernel: "",
    detail: "",
  };
  let block: "stderr" | "kernel" | null = null;
  const text: Record<"stderr" | "kernel", string[]> = { stderr: [], kernel: [] };
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(`${MARK} `)) {
      if (block) text[block].push(line);
      continue;
    }
    const [word = "", ...rest] = line.slice(MARK.length + 1).split(" ");
    if (word === "begin" && (rest[0] === "stderr" || rest[0] === "kernel")) block = rest[0];
    else if (word === "end") block = null;
    else if (word === "time") out.timings[rest[0] ?? "?"] = Number(rest[1]);
    else if (word === "written") out.written.push(rest.join(" "));
    else if (word === "restored") out.restored = true;
    else if (word === "restore-failed") out.restoreFailed.push(rest.join(" "));
    else if (word === "conflict") {
      out.conflict = { path: rest.slice(0, -1).join(" "), actualHash: rest.at(-1) ?? "" };
    } else if (word === "result") {
      const r = TX_RESULTS.find((x) => x === rest[0]);
      out.result = r ?? "incomplete";
      out.detail = rest.slice(1).join(" ");
    }
  }
  out.stderr = text.stderr.join("\n").trim();
  out.kernel = text.kernel.join("\n").trim();
  return out;
}
