/**
 * One read of a director is ONE remote command: a fixed sh script printing sections between
 * markers. Every process start on a small director costs 40-70 ms (and so does a dash
 * `while read` loop over a 30-line file: dash reads one byte per system call, and it
 * cannot read sysctls at all, as the kernel answers a read at a non-zero offset of an
 * integer sysctl with end-of-file), so the script starts as few processes as it can.
 *
 * A LIGHT read ($1 = light), what the poller runs in the steady state, starts two:
 * - ipvsadm -Ln --persistent-conn (rules, weights, active/inactive/persistent connections);
 * - ipvsadm -Ln --exact --stats (counters; rates come from the deltas between polls).
 * A FULL read ($1 = full) adds what those listings do not show: the forward methods, the
 * sysctls, and the thresholds and tunnel types an edit must repeat:
 * - one grep prints /proc/net/ip_vs (forward methods) and every net.ipv4.vs sysctl;
 * - ipvsadm -Ln --thresholds;
 * - ipvsadm -Ln --tun-info when $2 = 1 (the director has, or may have, tunnel members);
 * - ipvsadm --version and --timeout when $3 = 1.
 * A light read takes forward methods, thresholds, tunnel types and sysctls from the last
 * full read (parseSnapshot).
 * The connection count is the sum of the per-realserver counts (active, inactive and
 * persistence templates), not a read of the whole connection table.
 *
 * Pure: the script text, its arguments and its sections; snapshot-parse.ts reads them.
 */
import { ConsoleError } from "@/server/errors";
import { commandFailed } from "@/server/ipvs/errors";
import { splitSections as splitMarkedSections, type Section } from "@/server/ipvs/parse/sections";

const MARK = "@@lvs-console:9c1f@@";

export const SNAPSHOT_SCRIPT = `m='${MARK}'
s() { printf '%s %s\\n' "$m" "$1"; }
e() { printf '%s exit %s\\n' "$m" "$1"; }
s persistent; $asroot ipvsadm -Ln --persistent-conn 2>&1; e $?
s stats; $asroot ipvsadm -Ln --exact --stats 2>&1; e $?
if [ "$1" = full ]; then
s files; grep -H '' /proc/net/ip_vs /proc/sys/net/ipv4/vs/* 2>/dev/null; e 0
s thresholds; $asroot ipvsadm -Ln --thresholds 2>&1; e $?
if [ "$2" = 1 ]; then s tuninfo; $asroot ipvsadm -Ln --tun-info 2>&1; e $?; fi
if [ "$3" = 1 ]; then
s version; $asroot ipvsadm --version 2>&1; e $?
s timeout; $asroot ipvsadm -L --timeout 2>&1; e $?
fi
fi
`;

export type ReadKind = "full" | "light";

export interface ReadRequest {
  kind: ReadKind;
  /** Full reads only: read --tun-info. */
  tunnels: boolean;
  /** Full reads only: read the ipvsadm version and the timeouts. */
  meta: boolean;
}

/** The script's positional parameters for one read. */
export function snapshotArgs(request: ReadRequest): string[] {
  const full = request.kind === "full";
  return [request.kind, full && request.tunnels ? "1" : "0", full && request.meta ? "1" : "0"];
}

export type SectionName =
  "files" | "persistent" | "thresholds" | "stats" | "tuninfo" | "version" | "timeout";

const COMMANDS: Record<SectionName, string[]> = {
  files: ["grep", "-H", "", "/proc/net/ip_vs", "/proc/sys/net/ipv4/vs/*"],
  persistent: ["ipvsadm", "-Ln", "--persistent-conn"],
  thresholds: ["ipvsadm", "-Ln", "--thresholds"],
  stats: ["ipvsadm", "-Ln", "--exact", "--stats"],
  tuninfo: ["ipvsadm", "-Ln", "--tun-info"],
  version: ["ipvsadm", "--version"],
  timeout: ["ipvsadm", "-L", "--timeout"],
};

export type { Section } from "@/server/ipvs/parse/sections";

/** Splits the script's output into its sections; a section without its exit line was cut short. */
export function splitSections(stdout: string): Map<string, Section> {
  return splitMarkedSections(stdout, MARK);
}

export function section(
  sections: Map<string, Section>,
  name: SectionName,
  directorId: string,
): string {
  const found = sections.get(name);
  if (!found) {
    throw new ConsoleError("PARSE_ERROR", `the poll of ${directorId} printed no ${name} section`, {
      source: "snapshot",
      directorId,
      section: name,
    });
  }
  if (found.exitCode !== 0) {
    const message = found.text.trim().split("\n")[0] ?? "";
    throw commandFailed(
      `${COMMANDS[name].join(" ")} failed on ${directorId}${found.exitCode === null ? " (cut short)" : ` with exit code ${found.exitCode}`}${message ? `: ${message}` : ""}`,
      {
        directorId,
        argv: COMMANDS[name],
        exitCode: found.exitCode,
        stderr: found.text.slice(0, 4000),
      },
    );
  }
  return found.text;
}
