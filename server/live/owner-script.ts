/**
 * The owner read: ONE fixed sh script, run beside every FULL snapshot read, that prints
 * what decides who owns a director's IPVS rules, between markers:
 * - keepalived: the daemon's parent's pid (pid files, else the lowest pid whose comm is
 *   keepalived; never a one-shot `keepalived --version` or `-t`, however short-lived),
 *   its command line (for `-f`), `keepalived --version`;
 * - the keepalived config and every file it includes (globs expanded by the shell, relative
 *   paths from the including file's folder, at most 64 files of at most $1 bytes each),
 *   one awk per file that prints the text and hands back the include patterns;
 * - keepalived's own view: `kill -USR1` to the parent, then /tmp/keepalived.data (VRRP)
 *   and /tmp/keepalived_check.data (checkers) once both are rewritten (stat polled every
 *   50 ms, at most $2 times);
 * - the ipvsadm rules files (Debian /etc/ipvsadm.rules with AUTO in /etc/default/ipvsadm,
 *   RHEL /etc/sysconfig/ipvsadm) and the dumps in one awk;
 * - `ipvsadm -L --daemon` (the sync daemon).
 * It writes no file: the dumps are keepalived's own answer to SIGUSR1.
 *
 * Pure: the script text, its arguments, and the splitter of its output.
 */

const MARK = "@@lvs-console:owner:5b7e@@";
/** Heads each file inside the "files" section (not a section marker). */
const FILE_MARK = "@@lvs-console:owner-file:5b7e@@";

export const OWNER_SCRIPT = `m='${MARK}'; fm='${FILE_MARK}'
max=$1; tries=$2
s() { printf '%s %s\\n' "$m" "$1"; }
e() { printf '\\n%s exit %s\\n' "$m" "$1"; }
nl='
'
# Whether pid $1 is the keepalived daemon (argv left in $args, one per line): its comm is
# keepalived and it is no one-shot run (--version, --help, a -t config test: this script's
# own, a change flow's, an operator's), which SIGUSR1 would kill and which never dumps.
daemon() {
  c=; read -r c < "/proc/$1/comm" 2>/dev/null
  [ "$c" = keepalived ] || return 1
  args=$(tr '\\0' '\\n' < "/proc/$1/cmdline" 2>/dev/null)
  case "$nl$args$nl" in
    "$nl$nl"|*"$nl"-v"$nl"*|*"$nl"--version"$nl"*|*"$nl"-h"$nl"*|*"$nl"--help"$nl"*|*"$nl"-t*|*"$nl"--config-test*) return 1 ;;
  esac
}
pid=; cmd=
for f in /run/keepalived.pid /var/run/keepalived.pid /run/keepalived/keepalived.pid; do
  [ -r "$f" ] || continue
  read -r p < "$f" 2>/dev/null || continue
  daemon "$p" && { pid=$p; cmd=$args; break; }
done
if [ -z "$pid" ]; then
  # The lowest pid is the parent (its children are keepalived too); /proc lists in text order.
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    [ -z "$pid" ] || [ "$p" -lt "$pid" ] || continue
    daemon "$p" && { pid=$p; cmd=$args; }
  done
fi
conf=/etc/keepalived/keepalived.conf
if [ -n "$pid" ]; then
  s pid; printf '%s' "$pid"; e 0
  set -f; IFS=$nl
  set -- $cmd
  unset IFS; set +f
  s cmdline; printf '%s\\n' "$@"; e 0
  while [ $# -gt 0 ]; do
    case $1 in
      -f|--use-file) [ $# -gt 1 ] && conf=$2; shift ;;
      --use-file=*) conf=\${1#--use-file=} ;;
      -f?*) conf=\${1#-f} ;;
    esac
    shift
  done
fi
if command -v keepalived >/dev/null 2>&1; then s version; keepalived --version 2>&1; e $?; fi
seen=' '; n=0
readconf() {
  case $seen in *" $1 "*) return 0 ;; esac
  seen="$seen$1 "; n=$((n + 1))
  [ $n -le 64 ] || { s "toomany $1"; e 0; return 0; }
  [ -f "$1" ] || { s "missing $1"; e 0; return 0; }
  [ -r "$1" ] || { s "missing $1"; e 0; return 0; }
  s "conf $1"
  { incs=$(awk -v max="$max" '{ b += length($0) + 1; if (b > max) { print "@@cut" > "/dev/stderr"; exit }; print; if ($1 == "include" && $2 != "") print $2 > "/dev/stderr" }' "$1" 2>&1 1>&3); } 3>&1
  e $?
  local dir inc g
  dir=\${1%/*}
  for inc in $incs; do
    [ "$inc" = @@cut ] && { s "cut $1"; e 0; continue; }
    case $inc in /*) ;; *) inc=$dir/$inc ;; esac
    for g in $inc; do readconf "$g"; done
  done
}
readconf "$conf"
if [ -n "$pid" ]; then
  before=$(stat -c '%y' /tmp/keepalived.data /tmp/keepalived_check.data 2>/dev/null)
  s signal; $asroot kill -USR1 "$pid" 2>&1; e $?
  i=0
  while [ $i -lt "$tries" ]; do
    i=$((i + 1))
    sleep 0.05
    now=$(stat -c '%y' /tmp/keepalived.data /tmp/keepalived_check.data 2>/dev/null)
    # Both files rewritten: two lines, neither one of the old ones.
    case $now in *'
'*) ;; *) continue ;; esac
    a=\${now%%'
'*}; b=\${now#*'
'}
    case $before in *"$a"*|*"$b"*) continue ;; esac
    break
  done
  s "waited $i"; e 0
fi
for f in /etc/ipvsadm.rules /etc/default/ipvsadm /etc/sysconfig/ipvsadm; do
  [ -e "$f" ] && { s "exists $f"; e 0; }
done
s files
awk -v max="$max" -v m="$fm" 'FNR == 1 { b = 0; print m " " FILENAME } { b += length($0) + 1; if (b <= max) print }' \\
  /tmp/keepalived.data /tmp/keepalived_check.data /etc/ipvsadm.rules /etc/default/ipvsadm /etc/sysconfig/ipvsadm 2>/dev/null
e 0
if command -v ipvsadm >/dev/null 2>&1; then s daemon; ipvsadm -L --daemon 2>&1; e $?; fi
`;

export interface OwnerReadOptions {
  /** Largest file read, in bytes; a longer one is cut (and said so). */
  maxFileBytes: number;
  /** How many 50 ms waits for the SIGUSR1 dump before reading whatever is there. */
  dumpTries: number;
}

export const DEFAULT_OWNER_READ: OwnerReadOptions = { maxFileBytes: 256 * 1024, dumpTries: 30 };

export function ownerArgs(options: OwnerReadOptions = DEFAULT_OWNER_READ): string[] {
  return [String(options.maxFileBytes), String(options.dumpTries)];
}

/** What the script printed, as data. */
export interface OwnerRaw {
  keepalived: {
    pid: number | null;
    argv: string[];
    /** The -f path, or keepalived's default. */
    configPath: string;
    /** First line of `keepalived --version`; null when keepalived is not installed. */
    version: string | null;
    /** Config files by absolute path, in the order read. */
    files: Record<string, string>;
    /** Files the config names that were not there (includes that matched nothing). */
    missing: string[];
    /** Files cut at the size bound, or left out beyond 64 files. */
    cut: string[];
    /** Dump files by path (only when keepalived runs and answered SIGUSR1). */
    vrrpData: string | null;
    checkData: string | null;
    /** How many 50 ms waits the dump took; `dumpTries` means it did not come. */
    dumpWaits: number | null;
  };
  /** Rules files that exist, with their text. */
  rulesFiles: Record<string, string>;
  /** `ipvsadm -L --daemon` output, null when it failed. */
  daemon: string | null;
}

interface RawSection {
  name: string;
  text: string;
  exitCode: number | null;
}

function sectionsOf(stdout: string): RawSection[] {
  const result: RawSection[] = [];
  let current: { name: string; lines: string[] } | null = null;
  for (const line of stdout.split("\n")) {
    if (line.startsWith(`${MARK} `)) {
      const rest = line.slice(MARK.length + 1);
      const exit = /^exit (\d+)$/.exec(rest);
      if (exit && current) {
        // e() starts with a newline so a last line without one still ends: drop that newline.
        const lines = current.lines;
        if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
        result.push({ name: current.name, text: lines.join("\n"), exitCode: Number(exit[1]) });
        current = null;
      } else if (!exit) {
        current = { name: rest, lines: [] };
      }
      continue;
    }
    current?.lines.push(line);
  }
  if (current) result.push({ name: current.name, text: current.lines.join("\n"), exitCode: null });
  return result;
}

const DUMP_VRRP = "/tmp/keepalived.data";
const DUMP_CHECK = "/tmp/keepalived_check.data";

/** Splits the owner script's output (pure; unknown sections are ignored). */
export function parseOwnerOutput(stdout: string): OwnerRaw {
  const raw: OwnerRaw = {
    keepalived: {
      pid: null,
      argv: [],
      configPath: "/etc/keepalived/keepalived.conf",
      version: null,
      files: {},
      missing: [],
      cut: [],
      vrrpData: null,
      checkData: null,
      dumpWaits: null,
    },
    rulesFiles: {},
    daemon: null,
  };
  const k = raw.keepalived;
  const exists = new Set<string>();
  let firstConf: string | null = null;
  for (const section of sectionsOf(stdout)) {
    const [kind = "", ...restWords] = section.name.split(" ");
    const rest = restWords.join(" ");
    switch (kind) {
      case "pid":
        k.pid = /^\d+$/.test(section.text.trim()) ? Number(section.text.trim()) : null;
        break;
      case "cmdline":
        k.argv = section.text.split("\n").filter((w) => w !== "");
        break;
      case "version":
        k.version = section.exitCode === 0 ? (section.text.trim().split("\n")[0] ?? null) : null;
        break;
      case "conf":
        firstConf ??= rest;
        k.files[rest] = section.text.length > 0 ? `${section.text}\n` : "";
        break;
      case "missing":
        k.missing.push(rest);
        break;
      case "cut":
      case "toomany":
        k.cut.push(rest);
        break;
      case "waited":
        k.dumpWaits = Number(rest);
        break;
      case "exists":
        exists.add(rest);
        break;
      case "files":
        for (const [path, text] of filesOf(section.text)) {
          if (path === DUMP_VRRP) k.vrrpData = text;
          else if (path === DUMP_CHECK) k.checkData = text;
          else raw.rulesFiles[path] = text;
        }
        break;
      case "daemon":
        raw.daemon = section.exitCode === 0 ? section.text : null;
        break;
    }
  }
  for (const path of exists) raw.rulesFiles[path] ??= "";
  if (firstConf !== null) k.configPath = firstConf;
  else if (k.missing[0] !== undefined) k.configPath = k.missing[0];
  // Without a running keepalived the dumps on disk are from an earlier run: not its view.
  if (k.pid === null) {
    k.vrrpData = null;
    k.checkData = null;
  }
  return raw;
}

function filesOf(text: string): Map<string, string> {
  const files = new Map<string, string>();
  let path: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    if (path !== null) files.set(path, lines.length > 0 ? `${lines.join("\n")}\n` : "");
  };
  for (const line of text.split("\n")) {
    if (line.startsWith(`${FILE_MARK} `)) {
      flush();
      path = line.slice(FILE_MARK.length + 1);
      lines = [];
    } else if (path !== null) {
      lines.push(line);
    }
  }
  flush();
  return files;
}
