/**
 * Parsers of the doctor script's output (script.ts), section by section, into DoctorInputs.
 * Pure. A section that failed (a command missing, a table the kernel does not have) is not
 * an error: the doctor says what it could not read and checks the rest.
 */
import { hexAddress } from "@/server/ipvs/parse/common";
import { canonicalAddress } from "@/server/ipvs/model";
import { DOCTOR_MARK } from "./script";
import type {
  ClientEntries,
  DestinationStates,
  DoctorInputs,
  InterfaceAddress,
  NatRuleSource,
  Probe,
  RouteLookup,
} from "./types";
import { splitSections, type Section } from "@/server/ipvs/parse/sections";

export type DoctorSection = Section;

export function splitDoctorSections(stdout: string): Map<string, DoctorSection> {
  return splitSections(stdout, DOCTOR_MARK);
}

const SYSCTL_ROOT = "/proc/sys/";

/** `grep -H` lines of /proc/sys files, the IPVS hash size and the process names. */
export function parseFiles(text: string): {
  sysctls: Record<string, number>;
  connTableSize: number | null;
  processes: Set<string>;
} {
  const sysctls: Record<string, number> = {};
  const processes = new Set<string>();
  let connTableSize: number | null = null;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (path.startsWith(SYSCTL_ROOT)) {
      const n = Number(value);
      if (value !== "" && Number.isInteger(n)) sysctls[sysctlKey(path)] = n;
    } else if (path === "/proc/net/ip_vs") {
      const size = /\(size=(\d+)\)/.exec(value);
      if (size) connTableSize = Number(size[1]);
    } else if (/^\/proc\/\d+\/comm$/.test(path)) {
      processes.add(value);
    }
  }
  return { sysctls, connTableSize, processes };
}

/**
 * /proc/sys/net/ipv4/conf/br-int/rp_filter -> net.ipv4.conf.br-int.rp_filter. An interface
 * name with a dot (eth0.100) keeps it: sysctl(8) takes the slash form for those, see
 * sysctlArg in fixes.ts.
 */
export function sysctlKey(path: string): string {
  return path.slice(SYSCTL_ROOT.length).split("/").join(".");
}

/** `grep -H '^[^#;]'` of sysctl.conf and sysctl.d: "FILE:key = value" (slash keys made dotted). */
export function parseSysctlFiles(
  text: string,
): Array<{ file: string; key: string; value: string }> {
  const result: Array<{ file: string; key: string; value: string }> = [];
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s*-?\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const rawKey = m[2] ?? "";
    // net/ipv4/conf/eth0.100/rp_filter keeps the interface's dot; a dotted key has none.
    const key = rawKey.includes("/") ? rawKey.split("/").join(".") : rawKey;
    result.push({ file: m[1] ?? "", key, value: m[3] ?? "" });
  }
  return result;
}

/** `ip -o addr show`: "3: br-int    inet 10.10.0.1/24 scope global br-int\ ..." */
export function parseAddresses(text: string): InterfaceAddress[] {
  const result: InterfaceAddress[] = [];
  for (const line of text.split("\n")) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+([0-9a-fA-F:.]+)\/(\d+)/.exec(line);
    if (!m) continue;
    const [, ifname = "", family, address = "", prefix] = m;
    const canonical = canonicalAddress(address);
    if (!canonical) continue;
    result.push({
      ifname,
      family: family === "inet6" ? "inet6" : "inet",
      address: canonical,
      prefixLength: Number(prefix),
    });
  }
  return result;
}

/**
 * `ip -force -o -batch -` of `route get` lines: one line per address that has a route; the
 * errors ("RTNETLINK answers: Network is unreachable") come unordered (stderr), so an
 * address without a line failed, with the first error as its reason.
 */
export function parseRouteLookups(text: string, addresses: readonly string[]): RouteLookup[] {
  const found = new Map<string, RouteLookup>();
  const errors: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s*\\\s+/g, " ").trim();
    if (line === "") continue;
    if (/^(RTNETLINK answers:|Error:|Command failed)/.test(line)) {
      if (!line.startsWith("Command failed")) errors.push(line);
      continue;
    }
    const fields = line.split(/\s+/);
    const address = canonicalAddress(fields[0] ?? "");
    if (!address || found.has(address)) continue;
    const after = (word: string) => {
      const i = fields.indexOf(word);
      return i >= 0 ? (fields[i + 1] ?? null) : null;
    };
    found.set(address, {
      address,
      dev: after("dev"),
      via: after("via"),
      src: after("src"),
      raw: line,
    });
  }
  const reason = errors[0] ?? "no route";
  const result: RouteLookup[] = [];
  for (const a of new Set(addresses)) {
    result.push(found.get(a) ?? { address: a, dev: null, via: null, src: null, raw: reason });
  }
  return result;
}

const NAT_TARGET = /-j\s+(MASQUERADE|SNAT|DNAT|NETMAP)\b/;
const STATEFUL_IPT = /-m\s+(state|conntrack)\b|--ctstate|--state\s/;

/** Why a NAT source could not be read, or null when its output is a ruleset. */
function unavailable(text: string, exitCode: number | null): string | null {
  const first = text.trim().split("\n")[0] ?? "";
  if (exitCode === 127 || /not found|No such file or directory/.test(first))
    return "command not found";
  if (exitCode !== 0) return first || `exit code ${exitCode ?? "unknown (cut short)"}`;
  return null;
}

/** `iptables-save -t nat` / `ip6tables-save -t nat`. */
export function parseIptablesSave(
  tool: string,
  text: string,
  exitCode: number | null,
): NatRuleSource {
  const why = unavailable(text, exitCode);
  if (why) return { tool, natRules: [], statefulRules: [], unavailable: why };
  const natRules: string[] = [];
  const statefulRules: string[] = [];
  let table = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("*")) table = line.slice(1);
    if (!line.startsWith("-A ")) continue;
    if (NAT_TARGET.test(line)) natRules.push(table === "nat" ? line : `[${table}] ${line}`);
    else if (STATEFUL_IPT.test(line)) statefulRules.push(line);
  }
  return { tool, natRules, statefulRules, unavailable: null };
}

const NFT_NAT = /\b(masquerade|snat|dnat|redirect)\b/;
const NFT_STATEFUL = /\bct\s+(state|status)\b/;

/** `nft list ruleset`: rule lines, each with its table and chain for the evidence. */
export function parseNftRuleset(text: string, exitCode: number | null): NatRuleSource {
  const why = unavailable(text, exitCode);
  if (why) return { tool: "nft", natRules: [], statefulRules: [], unavailable: why };
  const natRules: string[] = [];
  const statefulRules: string[] = [];
  let table = "";
  let chain = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const t = /^table\s+(\S+\s+\S+)\s*\{/.exec(line);
    if (t) {
      table = t[1] ?? "";
      continue;
    }
    const c = /^chain\s+(\S+)\s*\{/.exec(line);
    if (c) {
      chain = c[1] ?? "";
      continue;
    }
    if (line === "" || line === "}" || /^(type|policy)\s/.test(line)) continue;
    const where = `table ${table} chain ${chain}: ${line}`;
    // "type nat hook ..." lines were skipped above; "snat to", "dnat to", "masquerade".
    if (NFT_NAT.test(line.replace(/"[^"]*"/g, '""'))) natRules.push(where);
    else if (NFT_STATEFUL.test(line)) statefulRules.push(where);
  }
  return { tool: "nft", natRules, statefulRules, unavailable: null };
}

/** The awk's counts over /proc/net/ip_vs_conn (addresses in the kernel's hex form). */
export function parseConnectionCounts(text: string): {
  destinations: DestinationStates[];
  clients: ClientEntries[];
  truncated: boolean;
  connections: number;
  templates: number;
} {
  const byDest = new Map<string, DestinationStates>();
  const clients: ClientEntries[] = [];
  let truncated = false;
  let connections = 0;
  let templates = 0;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "dest" && f.length === 6) {
      const address = hexAddress(f[1] ?? "");
      const port = Number.parseInt(f[2] ?? "", 16);
      if (!address || !Number.isInteger(port)) continue;
      const key = `${address} ${port}`;
      const entry = byDest.get(key) ?? { address, port, states: {}, newestExpires: {} };
      const state = f[3] ?? "?";
      entry.states[state] = (entry.states[state] ?? 0) + Number(f[4]);
      entry.newestExpires[state] = Math.max(entry.newestExpires[state] ?? 0, Number(f[5]));
      byDest.set(key, entry);
    } else if (f[0] === "client" && f.length === 7) {
      const client = hexAddress(f[1] ?? "");
      const address = hexAddress(f[2] ?? "");
      const port = Number.parseInt(f[3] ?? "", 16);
      if (!client || !address || !Number.isInteger(port)) continue;
      clients.push({
        client,
        address,
        port,
        state: f[4] ?? "?",
        count: Number(f[5]),
        newestExpires: Number(f[6]),
      });
    } else if (f[0] === "truncated") {
      truncated = true;
    } else if (f[0] === "total" && f.length === 3) {
      connections = Number(f[1]);
      templates = Number(f[2]);
    }
  }
  return { destinations: [...byDest.values()], clients, truncated, connections, templates };
}

/** "open 10.10.0.11 80" / "closed 10.10.0.13 80 Connection refused"; the rest timed out. */
export function parseProbes(
  text: string,
  exitCode: number | null,
  targets: ReadonlyArray<{ address: string; port: number }>,
): Probe[] | null {
  if (exitCode === 127 || text.trim() === "no bash") return null;
  const seen = new Map<string, Probe>();
  for (const line of text.split("\n")) {
    const m = /^(open|closed) (\S+) (\d+)(?: (.*))?$/.exec(line.trim());
    if (!m) continue;
    const address = canonicalAddress(m[2] ?? "");
    if (!address) continue;
    const port = Number(m[3]);
    seen.set(`${address} ${port}`, {
      address,
      port,
      outcome: m[1] === "open" ? "open" : "closed",
      reason: m[1] === "open" ? null : (m[4] ?? "").trim() || "connect failed",
    });
  }
  return targets.map(
    (t) =>
      seen.get(`${t.address} ${t.port}`) ?? {
        address: t.address,
        port: t.port,
        outcome: "timeout",
        reason: "no answer within the probe timeout",
      },
  );
}

/** The whole output, for the targets the script was given. */
export function parseDoctorOutput(
  stdout: string,
  targets: ReadonlyArray<{ address: string; port: number; probe: boolean }>,
): DoctorInputs {
  const sections = splitDoctorSections(stdout);
  const problems: string[] = [];
  const get = (name: string): DoctorSection => {
    const s = sections.get(name);
    if (!s) {
      problems.push(`${name}: not in the output (the read was cut short)`);
      return { text: "", exitCode: null };
    }
    return s;
  };
  const files = parseFiles(get("files").text);
  const addr = get("addr");
  if (addr.exitCode !== 0 && sections.has("addr"))
    problems.push(`ip -o addr: ${firstLine(addr.text)}`);
  const conns = get("conns");
  if (conns.exitCode !== 0 && sections.has("conns"))
    problems.push(`/proc/net/ip_vs_conn: ${firstLine(conns.text)}`);
  const counts = parseConnectionCounts(conns.text);
  const ipt = get("iptables");
  const ip6t = get("ip6tables");
  const nft = get("nft");
  const probeSection = get("probes");
  const probed = targets.filter((t) => t.probe);
  return {
    sysctls: files.sysctls,
    connTableSize: files.connTableSize,
    keepalived: files.processes.has("keepalived"),
    addresses: parseAddresses(addr.text),
    routes: get("route")
      .text.split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
    routeLookups: parseRouteLookups(
      get("routeget").text,
      targets.map((t) => t.address),
    ),
    natSources: [
      parseIptablesSave("iptables-save", ipt.text, ipt.exitCode),
      parseIptablesSave("ip6tables-save", ip6t.text, ip6t.exitCode),
      parseNftRuleset(nft.text, nft.exitCode),
    ],
    destinations: counts.destinations,
    clients: counts.clients,
    clientsTruncated: counts.truncated,
    connectionCount: counts.connections + counts.templates,
    templateCount: counts.templates,
    persisted: parseSysctlFiles(get("sysctld").text),
    probes: sections.has("probes")
      ? parseProbes(probeSection.text, probeSection.exitCode, probed)
      : null,
    problems,
  };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
