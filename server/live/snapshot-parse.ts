/**
 * One poll's output (snapshot-script.ts) as a DirectorSnapshot: sections parsed, listings
 * merged, rates and the rules' version added. Pure.
 */
import { ConsoleError, isConsoleError } from "@/server/errors";
import {
  formatServiceKey,
  sameEndpoint,
  type IpvsTimeouts,
  type IpvsadmVersion,
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
  type ServiceListing,
} from "@/server/ipvs/parse";
import { mergeError } from "@/server/ipvs/parse/merge";
import { rulesFingerprint, rulesVersion } from "@/server/ipvs/rules";
import type { DirectorSnapshot } from "./types";
import { section, splitSections } from "./snapshot-script";
import { type ForwardSource, listWithForward } from "./snapshot-forward";
import { withRates } from "./snapshot-rates";

export function sameKeyStrict(a: ServiceKey, b: ServiceKey): boolean {
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

/** The last full read's fingerprint, computed once per full read (its services array). */
const baseFingerprints = new WeakMap<readonly ServiceState[], string>();
function baseFingerprint(services: readonly ServiceState[]): string {
  let fingerprint = baseFingerprints.get(services);
  if (fingerprint === undefined) {
    fingerprint = rulesFingerprint(services);
    baseFingerprints.set(services, fingerprint);
  }
  return fingerprint;
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
  const sysctls = files
    ? files.sysctls.trim() === ""
      ? {}
      : parseSysctls(files.sysctls)
    : (base?.sysctls ?? {});
  let version: string;
  if (full || !base) {
    version = rulesVersion(merged, sysctls);
  } else {
    merged = withFullReadRules(merged, base.services);
    // The sysctls are the full read's, so the same rules are the same version.
    version =
      rulesFingerprint(merged) === baseFingerprint(base.services)
        ? base.version
        : rulesVersion(merged, sysctls);
    if (version !== base.version) {
      throw mergeError("the rules changed since the last full read: read everything again", {
        view: "light",
        reason: "rules-changed",
      });
    }
  }
  const services = withRates(merged, ctx.takenAt, ctx.previous);
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
