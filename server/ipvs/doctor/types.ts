/**
 * The doctor's vocabulary: what it reads from a director (DoctorInputs, parsed from one
 * remote script) and what it says (Finding). Pure data, shared by the server and the UI.
 */

export const FINDING_CODES = [
  "ip-forward-off",
  "send-redirects-on",
  "replies-bypass-director",
  "realserver-down",
  "client-in-realserver-subnet",
  "no-route-to-realserver",
  "vip-missing",
  "nat-rules-interfere",
  "mixed-forwarding",
  "rp-filter-strict",
  "ipvs-conntrack-off",
  "conn-table-oversized",
  "doctor-incomplete",
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export type Severity = "error" | "warn" | "info";

/** What a finding is about; `name` is its display form ("10.10.0.12:80", "br-int"). */
export type FindingSubject =
  | { kind: "director"; name: string }
  | { kind: "interface"; name: string }
  | { kind: "realserver"; name: string; address: string; port: number }
  | { kind: "vip"; name: string; address: string }
  | { kind: "client"; name: string; address: string }
  | { kind: "service"; name: string };

/** Sysctls the doctor may set on the director itself (the safe ones). */
export type DirectorFixId = "ip-forward" | "send-redirects";

export type FindingFix =
  | {
      where: "director";
      id: DirectorFixId;
      summary: string;
      /** sysctl keys (dotted, as `sysctl -w` takes them) and the values they get. */
      settings: Array<{ key: string; value: number }>;
    }
  | {
      /** The console has no access to realservers: what to change there, by hand. */
      where: "realserver";
      summary: string;
      commands: string[];
    };

export interface Finding {
  code: FindingCode;
  severity: Severity;
  subject: FindingSubject;
  /** What is wrong and why it breaks NAT, for an operator new to LVS-NAT. */
  message: string;
  /** What the doctor saw: one line per fact, as read from the director. */
  evidence: string[];
  fix?: FindingFix;
}

export interface DoctorReport {
  directorId: string;
  /** When the director was read (ms since the epoch). */
  at: number;
  findings: Finding[];
  /** How long the remote script ran, as seen from the console (ms). */
  elapsedMs: number;
}

export interface InterfaceAddress {
  ifname: string;
  family: "inet" | "inet6";
  address: string;
  prefixLength: number;
}

/** `ip route get ADDR`, one per realserver address. */
export interface RouteLookup {
  address: string;
  /** null when the lookup failed (e.g. "Network is unreachable"). */
  dev: string | null;
  via: string | null;
  src: string | null;
  /** The line as printed, or the error. */
  raw: string;
}

export type ProbeOutcome = "open" | "closed" | "timeout";

export interface Probe {
  address: string;
  port: number;
  outcome: ProbeOutcome;
  /** The reason of a failed connect ("Connection refused", "No route to host"). */
  reason: string | null;
}

/** Connection entries (templates excluded) per destination and state. */
export interface DestinationStates {
  address: string;
  port: number;
  states: Record<string, number>;
  /** Per state, the largest Expires (s) among its entries: the newest entry's remaining time. */
  newestExpires: Record<string, number>;
}

/** Connection entries per client address, destination and state. */
export interface ClientEntries {
  client: string;
  address: string;
  port: number;
  state: string;
  count: number;
  /** The largest Expires (s) among these entries. */
  newestExpires: number;
}

export interface NatRuleSource {
  /** "iptables-save", "ip6tables-save", "nft". */
  tool: string;
  /** The rule lines that rewrite addresses (MASQUERADE, SNAT, DNAT, masquerade, snat, dnat). */
  natRules: string[];
  /** Rules that need connection tracking (-m state/conntrack, ct state). */
  statefulRules: string[];
  /** Why this source could not be read ("command not found", "table does not exist"), or null. */
  unavailable: string | null;
}

export interface DoctorInputs {
  /** Every sysctl read, by dotted key (net.ipv4.ip_forward, net.ipv4.conf.br-int.rp_filter). */
  sysctls: Record<string, number>;
  /** The IPVS connection hash table size (the `size=` of /proc/net/ip_vs), or null. */
  connTableSize: number | null;
  /** Whether a keepalived process runs on the director. */
  keepalived: boolean;
  addresses: InterfaceAddress[];
  /** `ip -o route` lines, for the evidence. */
  routes: string[];
  routeLookups: RouteLookup[];
  natSources: NatRuleSource[];
  destinations: DestinationStates[];
  clients: ClientEntries[];
  /** The client list was cut at the script's limit. */
  clientsTruncated: boolean;
  /** Entries in the connection table: connections and persistence templates. */
  connectionCount: number;
  templateCount: number;
  /** null when bash is missing on the director (no probes could run). */
  probes: Probe[] | null;
  /** Settings in sysctl.conf and the sysctl.d files, in the files' order (key dotted). */
  persisted: Array<{ file: string; key: string; value: string }>;
  /** Sections that could not be read, with why. */
  problems: string[];
}
