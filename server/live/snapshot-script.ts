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
 * Pure: the script text, its arguments, and the parser of its output.
 */
import { ConsoleError, isConsoleError } from "@/server/errors";
import {
  formatEndpoint,
  formatServiceKey,
  sameEndpoint,
  type Counters,
  type IpvsTimeouts,
  type IpvsadmVersion,
  type Rates,
  type ServiceKey,
  type ServiceState,
} from "@/server/ipvs/model";
import {
  mergeListings,
  parseList,
  parseProcServices,
  parseStats,
  parseSysctls,
  parseTimeouts,
  parseVersion,
  type ProcService,
  type ServiceListing,
} from "@/server/ipvs/parse";
import { commandFailed } from "@/server/ipvs/errors";
import { rulesVersion } from "@/server/ipvs/rules";
import type { DirectorSnapshot } from "./types";

const MARK = "@@lvs-console:9c1f@@";

export const SNAPSHOT_SCRIPT = `m='${MARK}'
s() { printf '%s %s\\n' "$m" "$1"; }
e() { printf '%s exit %s\\n' "$m" "$1"; }
s persistent; ipvsadm -Ln --persistent-conn 2>&1; e $?
s stats; ipvsadm -Ln --exact --stats 2>&1; e $?
if [ "$1" = full ]; then
s files; grep -H '' /proc/net/ip_vs /proc/sys/net/ipv4/vs/* 2>/dev/null; e 0
s thresholds; ipvsadm -Ln --thresholds 2>&1; e $?
if [ "$2" = 1 ]; then s tuninfo; ipvsadm -Ln --tun-info 2>&1; e $?; fi
if [ "$3" = 1 ]; then
s version; ipvsadm --version 2>&1; e $?
s timeout; ipvsadm -L --timeout 2>&1; e $?
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

export interface Section {
  text: string;
  exitCode: number | null;
}

/** Splits the script's output into its sections; a section without its exit line was cut short. */
export function splitSections(stdout: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: { name: string; lines: string[] } | null = null;
  for (const line of stdout.split("\n")) {
    if (line.startsWith(`${MARK} `)) {
      const rest = line.slice(MARK.length + 1);
      const exit = /^exit (\d+)$/.exec(rest);
      if (exit && current) {
        sections.set(current.name, { text: current.lines.join("\n"), exitCode: Number(exit[1]) });
        current = null;
      } else if (!exit) {
        current = { name: rest, lines: [] };
      }
      continue;
    }
    current?.lines.push(line);
  }
  if (current) sections.set(current.name, { text: current.lines.join("\n"), exitCode: null });
  return sections;
}

function section(sections: Map<string, Section>, name: SectionName, directorId: string): string {
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

function sameKeyLoosely(a: ServiceKey, b: ServiceKey): boolean {
  // /proc/net/ip_vs does not say which family a firewall mark service is for.
  if (a.kind === "fwm" || b.kind === "fwm")
    return a.kind === "fwm" && b.kind === "fwm" && a.mark === b.mark;
  return a.kind === b.kind && a.address === b.address && a.port === b.port;
}

function mergeError(message: string, details: Record<string, unknown>): ConsoleError {
  return new ConsoleError("PARSE_ERROR", `merging listings: ${message}`, {
    source: "merge",
    ...details,
  });
}

/** Where forward methods come from: /proc/net/ip_vs, or the services of the last full read. */
type ForwardSource = ReadonlyArray<
  Pick<ProcService, "key"> & {
    realservers: ReadonlyArray<
      Pick<ProcService["realservers"][number], "address" | "port" | "forward">
    >;
  }
>;

/**
 * The main listing mergeListings needs (forward and weight per realserver), built from the
 * --persistent-conn listing plus the forward methods of /proc/net/ip_vs (a full read) or
 * of the last full read (a light read: any difference means the rules changed).
 */
export function listWithForward(persistent: ServiceListing, proc: ForwardSource): ServiceListing {
  for (const p of proc) {
    if (!persistent.services.some((s) => sameKeyLoosely(s.key, p.key))) {
      throw mergeError(`service ${formatServiceKey(p.key)} is in /proc/net/ip_vs only`, {
        service: formatServiceKey(p.key),
        view: "proc",
      });
    }
  }
  return {
    ...persistent,
    variant: "plain",
    services: persistent.services.map((service) => {
      const p = proc.find((ps) => sameKeyLoosely(ps.key, service.key));
      if (!p) {
        throw mergeError(
          `service ${formatServiceKey(service.key)} is missing from /proc/net/ip_vs`,
          { service: formatServiceKey(service.key), view: "proc" },
        );
      }
      if (p.realservers.length !== service.realservers.length) {
        throw mergeError(
          `the realservers of ${formatServiceKey(service.key)} changed between reads`,
          { service: formatServiceKey(service.key), view: "proc" },
        );
      }
      return {
        ...service,
        realservers: service.realservers.map((rs) => {
          const pr = p.realservers.find((r) => sameEndpoint(r, rs));
          if (!pr) {
            throw mergeError(
              `realserver ${formatEndpoint(rs)} of ${formatServiceKey(service.key)} is missing from /proc/net/ip_vs`,
              {
                service: formatServiceKey(service.key),
                realserver: formatEndpoint(rs),
                view: "proc",
              },
            );
          }
          return { ...rs, forward: pr.forward, persistentConns: null };
        }),
      };
    }),
  };
}

function rate(now: Counters, before: Counters, seconds: number): Rates | null {
  const d = (a: bigint, b: bigint) => (a >= b ? Number(a - b) / seconds : null);
  const cps = d(now.conns, before.conns);
  const inPps = d(now.inPackets, before.inPackets);
  const outPps = d(now.outPackets, before.outPackets);
  const inBps = d(now.inBytes, before.inBytes);
  const outBps = d(now.outBytes, before.outBytes);
  // A counter that went down means the service or realserver was re-created: no rate.
  if (cps === null || inPps === null || outPps === null || inBps === null || outBps === null)
    return null;
  return { cps, inPps, outPps, inBps, outBps };
}

/** Per-second rates from the counter deltas since the previous poll (null on the first). */
export function withRates(
  services: ServiceState[],
  takenAt: number,
  previous: Pick<DirectorSnapshot, "services" | "takenAt"> | null,
): ServiceState[] {
  const seconds = previous ? (takenAt - previous.takenAt) / 1000 : 0;
  if (!previous || seconds <= 0) return services;
  return services.map((service) => {
    const before = previous.services.find((p) => sameKeyStrict(p.key, service.key));
    if (!before) return service;
    return {
      ...service,
      rates:
        service.counters && before.counters
          ? rate(service.counters, before.counters, seconds)
          : null,
      realservers: service.realservers.map((rs) => {
        const prev = before.realservers.find((p) => sameEndpoint(p, rs));
        return {
          ...rs,
          rates: rs.counters && prev?.counters ? rate(rs.counters, prev.counters, seconds) : null,
        };
      }),
    };
  });
}

function sameKeyStrict(a: ServiceKey, b: ServiceKey): boolean {
  return formatServiceKey(a) === formatServiceKey(b);
}

export interface SnapshotContext {
  directorId: string;
  clusterId: string;
  takenAt: number;
  /** The previous poll of the same director, for rates. */
  previous: Pick<DirectorSnapshot, "services" | "takenAt"> | null;
  /** ipvsadm version and timeouts from an earlier poll, when this one did not read them. */
  cached: { ipvsadm: IpvsadmVersion | null; timeouts: IpvsTimeouts | null } | null;
  /** The last full read of the director: a light read takes thresholds and tunnel types from it. */
  base?: Pick<DirectorSnapshot, "services" | "version" | "sysctls"> | null;
}

const PROC_PREFIX = "/proc/net/ip_vs:";
const SYSCTL_PREFIX = "/proc/sys/net/ipv4/vs/";

/** The grep section: /proc/net/ip_vs and the sysctls, each line prefixed with its file. */
export function splitFiles(text: string): { proc: string; sysctls: string } {
  const proc: string[] = [];
  const sysctls: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(PROC_PREFIX)) proc.push(line.slice(PROC_PREFIX.length));
    else if (line.startsWith(SYSCTL_PREFIX)) sysctls.push(line);
  }
  return { proc: proc.join("\n"), sysctls: sysctls.join("\n") };
}

/** Whether a poll must read --tun-info: the director has (or had) a tunnel member. */
export function hasTunnels(
  services: ReadonlyArray<{ realservers: ReadonlyArray<{ forward: string | null }> }>,
): boolean {
  return services.some((s) => s.realservers.some((r) => r.forward === "tunnel"));
}

/**
 * A light read's services with the thresholds and tunnel types of the last full read.
 *
 * Why that is safe: the light read checks that the result has the full read's version, so
 * every attribute it sees itself (members, weights, forward methods, schedulers,
 * persistence) is unchanged since then, and anything else makes the caller read everything
 * again. What it cannot see is a threshold or tunnel type edited on its own behind the
 * console's back: the live view shows that at the next full read (every Nth poll), and a
 * change never decides on a light read: changes and drains read the director fully, fresh,
 * before they plan, commit and verify, so such an edit still is a CONFLICT.
 */
function withFullReadRules(
  services: ServiceState[],
  base: readonly ServiceState[],
): ServiceState[] {
  return services.map((service) => {
    const before = base.find((b) => sameKeyStrict(b.key, service.key));
    return {
      ...service,
      realservers: service.realservers.map((rs) => {
        const was = before?.realservers.find((b) => sameEndpoint(b, rs));
        if (!was) return rs;
        return {
          ...rs,
          upperThreshold: was.upperThreshold,
          lowerThreshold: was.lowerThreshold,
          tunnel: was.tunnel,
        };
      }),
    };
  });
}

/**
 * Turns the script's output into a snapshot: a full read when it has the thresholds
 * section, a light one (which needs `ctx.base`) otherwise. Throws PARSE_ERROR or
 * COMMAND_FAILED; a PARSE_ERROR with details.source "merge" asks for a full read instead.
 */
export function parseSnapshot(stdout: string, ctx: SnapshotContext): DirectorSnapshot {
  const sections = splitSections(stdout);
  const id = ctx.directorId;
  // ipvsadm first: when IPVS is missing, its message says so best.
  const persistent = parseList(section(sections, "persistent", id));
  const full = sections.has("thresholds");
  const thresholds = full ? parseList(section(sections, "thresholds", id)) : undefined;
  const stats = parseStats(section(sections, "stats", id));
  const base = ctx.base ?? null;
  if (!full && !base) {
    throw new ConsoleError("INTERNAL", `a light read of ${id} needs an earlier full read`, {
      directorId: id,
    });
  }
  const files = full ? splitFiles(section(sections, "files", id)) : null;
  const proc: ForwardSource = files ? parseProcServices(files.proc) : (base?.services ?? []);
  let list: ServiceListing;
  if (sections.has("tuninfo")) {
    list = parseList(section(sections, "tuninfo", id));
  } else if (full && hasTunnels(proc)) {
    throw mergeError("a tunnel member appeared: read again with --tun-info", {
      view: "tuninfo",
      reason: "tunnel-info",
    });
  } else {
    try {
      list = listWithForward(persistent, proc);
    } catch (e) {
      // A light read's forward methods come from the last full read: a different set of
      // services or members there means the rules changed.
      if (full || !isConsoleError(e, "PARSE_ERROR")) throw e;
      throw mergeError("the rules changed since the last full read: read everything again", {
        view: "light",
        reason: "rules-changed",
      });
    }
  }
  let merged = mergeListings({ list, persistent, stats, ...(thresholds ? { thresholds } : {}) });
  let version: string;
  if (full || !base) {
    version = rulesVersion(merged);
  } else {
    merged = withFullReadRules(merged, base.services);
    version = rulesVersion(merged);
    if (version !== base.version) {
      throw mergeError("the rules changed since the last full read: read everything again", {
        view: "light",
        reason: "rules-changed",
      });
    }
  }
  const services = withRates(merged, ctx.takenAt, ctx.previous);
  const sysctls = files
    ? files.sysctls.trim() === ""
      ? {}
      : parseSysctls(files.sysctls)
    : (base?.sysctls ?? {});
  const ipvsadm = sections.has("version")
    ? parseVersion(section(sections, "version", id))
    : (ctx.cached?.ipvsadm ?? null);
  const timeouts = sections.has("timeout")
    ? parseTimeouts(section(sections, "timeout", id))
    : (ctx.cached?.timeouts ?? null);
  let connectionCount = 0;
  for (const s of services) {
    for (const r of s.realservers)
      connectionCount += r.activeConns + r.inactiveConns + (r.persistentConns ?? 0);
  }
  return {
    directorId: id,
    clusterId: ctx.clusterId,
    version,
    takenAt: ctx.takenAt,
    services,
    sysctls,
    ipvsadm,
    timeouts,
    connectionCount,
  };
}
