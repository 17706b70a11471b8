/**
 * keepalived's SIGUSR1 data dumps, `/tmp/keepalived.data` (VRRP) and
 * `/tmp/keepalived_check.data` (checker), in the line formats of keepalived 2.2.7's
 * dump_vrrp / dump_sync_group (vrrp_data.c), dump_vs / dump_rs (check_data.c) and
 * dump_checker (check_api.c). Tolerant: lines it does not know are skipped, fields a
 * block lacks are findings, nothing throws.
 */
import { canonicalAddress } from "@/server/ipvs/model";

export interface DumpFinding {
  line: number;
  message: string;
}

export interface VrrpDumpInstance {
  name: string;
  line: number;
  /** MASTER, BACKUP, FAULT or INIT; null when the dump has no State line. */
  state: string | null;
  wantState: string | null;
  syncGroup: string | null;
  interface: string | null;
  virtualRouterId: number | null;
  priority: number | null;
  effectivePriority: number | null;
  /** Only in BACKUP: the master it hears. */
  masterRouter: string | null;
  masterPriority: number | null;
  /** Seconds since the epoch. */
  lastTransition: number | null;
  virtualIps: string[];
}

export interface VrrpDumpSyncGroup {
  name: string;
  line: number;
  state: string;
  members: string[];
}

export interface VrrpDump {
  instances: VrrpDumpInstance[];
  syncGroups: VrrpDumpSyncGroup[];
  findings: DumpFinding[];
}

const num = (text: string | undefined): number | null =>
  text === undefined || !/^-?\d+(\.\d+)?$/.test(text) ? null : Number(text);

export function parseVrrpDump(text: string): VrrpDump {
  const dump: VrrpDump = { instances: [], syncGroups: [], findings: [] };
  let instance: VrrpDumpInstance | null = null;
  let group: VrrpDumpSyncGroup | null = null;
  let list: "vips" | "members" | null = null;
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    const n = index + 1;
    if (line.startsWith("------<")) {
      instance = null;
      group = null;
      list = null;
      return;
    }
    let m = /^ VRRP Instance = (\S+)/.exec(line);
    if (m !== null) {
      instance = {
        name: m[1] ?? "",
        line: n,
        state: null,
        wantState: null,
        syncGroup: null,
        interface: null,
        virtualRouterId: null,
        priority: null,
        effectivePriority: null,
        masterRouter: null,
        masterPriority: null,
        lastTransition: null,
        virtualIps: [],
      };
      dump.instances.push(instance);
      group = null;
      list = null;
      return;
    }
    m = /^ VRRP Sync Group = ([^,\s]+), (\S+)/.exec(line);
    if (m !== null) {
      group = { name: m[1] ?? "", line: n, state: m[2] ?? "", members: [] };
      dump.syncGroups.push(group);
      instance = null;
      list = null;
      return;
    }
    if (list !== null && /^ {5}\S/.test(line)) {
      const value = line.trim();
      if (list === "vips" && instance !== null) {
        instance.virtualIps.push(value.split(/\s+/)[0] ?? value);
      }
      if (list === "members" && group !== null) group.members.push(value);
      return;
    }
    list = null;
    const field = /^ {3}([^=]+?) = (.*)$/.exec(line);
    if (group !== null && /^ {3}VRRP member instances :/.test(line)) list = "members";
    if (instance === null) return;
    const vi: VrrpDumpInstance = instance;
    if (/^ {3}Virtual IP \(\d+\):/.test(line)) {
      list = "vips";
      return;
    }
    if (field === null) return;
    const [, key, value = ""] = field;
    switch (key) {
      case "State":
        vi.state = value.trim();
        break;
      case "Wantstate":
        vi.wantState = value.trim();
        break;
      case "Sync group":
        vi.syncGroup = value.trim();
        break;
      case "Interface":
        vi.interface = value.split(",")[0]?.trim() ?? null;
        break;
      case "Virtual Router ID":
        vi.virtualRouterId = num(value.trim());
        break;
      case "Priority":
        vi.priority = num(value.trim());
        break;
      case "Effective priority":
        vi.effectivePriority = num(value.trim());
        break;
      case "Master router":
        vi.masterRouter = canonicalAddress(value.trim()) ?? value.trim();
        break;
      case "Master priority":
        vi.masterPriority = num(value.trim());
        break;
      case "Last transition":
        vi.lastTransition = num(value.split(" ")[0]);
        break;
      default:
        break;
    }
  });
  for (const vi of dump.instances) {
    if (vi.state === null) {
      dump.findings.push({ line: vi.line, message: `VRRP instance ${vi.name} has no State line` });
    }
  }
  return dump;
}

export type DumpTarget =
  | { kind: "address"; address: string; port: number }
  | { kind: "fwmark"; mark: number }
  | { kind: "group"; name: string };

export interface CheckDumpChecker {
  line: number;
  method: string | null;
  enabled: boolean | null;
  up: boolean | null;
  hasRun: boolean | null;
}

export interface CheckDumpRealserver {
  line: number;
  address: string;
  port: number;
  /** keepalived's weight for it when alive (real_weight of the effective weight). */
  weight: number | null;
  effectiveWeight: number | null;
  initialWeight: number | null;
  alive: boolean | null;
  inhibitOnFailure: boolean | null;
  forward: string | null;
  failedCheckers: number | null;
  checkers: CheckDumpChecker[];
}

export interface CheckDumpService {
  line: number;
  target: DumpTarget;
  protocol: "tcp" | "udp" | "sctp" | null;
  scheduler: string | null;
  persistenceTimeout: number | null;
  inhibitOnFailure: boolean | null;
  quorum: number | null;
  hysteresis: number | null;
  alive: boolean | null;
  quorumUp: boolean | null;
  sorryServer: string | null;
  realservers: CheckDumpRealserver[];
}

export interface CheckDump {
  services: CheckDumpService[];
  findings: DumpFinding[];
}

const onOff = (text: string): boolean | null =>
  text === "ON" ? true : text === "OFF" ? false : null;
const yesNo = (text: string): boolean | null =>
  text === "yes" ? true : text === "no" ? false : null;

function trioKey(text: string): string {
  // `[203.0.113.20]:tcp:9090`, `FWM 7` or `[GROUP]:0`, as format_vs/format_rs print them.
  const m = /^\[([^\]]+)\]:(?:([a-z?]+):)?(\d+)$/.exec(text.trim());
  if (m === null) return text.trim();
  const address = canonicalAddress(m[1] ?? "") ?? m[1] ?? "";
  return `${address}|${m[2] ?? ""}|${m[3] ?? ""}`;
}

function serviceLabel(s: CheckDumpService): string {
  const t = s.target;
  if (t.kind === "fwmark") return `FWM ${t.mark}`;
  if (t.kind === "group") return trioKey(`[${t.name}]:0`);
  return `${t.address}|${s.protocol ?? "none"}|${t.port}`;
}

export function parseCheckDump(text: string): CheckDump {
  const dump: CheckDump = { services: [], findings: [] };
  let service: CheckDumpService | null = null;
  let rs: CheckDumpRealserver | null = null;
  let checker: CheckDumpChecker | null = null;
  let section = "";
  const pending: Array<{ vs: string; rs: string; checker: CheckDumpChecker }> = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    const n = index + 1;
    const header = /^------< (.+) >------$/.exec(line);
    if (header !== null) {
      section = header[1] ?? "";
      service = null;
      rs = null;
      checker = null;
      return;
    }
    if (section === "Health checkers") {
      const head = /^ (\S.*?) -> (\[.+)$/.exec(line);
      if (head !== null) {
        checker = { line: n, method: null, enabled: null, up: null, hasRun: null };
        pending.push({ vs: trioKey(head[1] ?? ""), rs: trioKey(head[2] ?? ""), checker });
        return;
      }
      const f = /^ {3}([^=]+?) = (.*)$/.exec(line);
      if (checker === null || f === null) return;
      const c: CheckDumpChecker = checker;
      if (f[1] === "Enabled") c.enabled = yesNo(f[2] ?? "");
      if (f[1] === "Up") c.up = yesNo(f[2] ?? "");
      if (f[1] === "Has run") c.hasRun = yesNo(f[2] ?? "");
      if (f[1] === "Keepalive method") c.method = f[2]?.trim() ?? null;
      return;
    }
    if (section !== "LVS Topology") return;
    const vsLine =
      /^ VS VIP = (\S+), VPORT = (\d+)/.exec(line) ??
      /^ VS FWMARK = (\d+)/.exec(line) ??
      /^ VS GROUP = \[(.+)\]:\d+/.exec(line);
    if (vsLine !== null) {
      const target: DumpTarget = line.startsWith(" VS VIP")
        ? {
            kind: "address",
            address: canonicalAddress(vsLine[1] ?? "") ?? vsLine[1] ?? "",
            port: Number(vsLine[2]),
          }
        : line.startsWith(" VS FWMARK")
          ? { kind: "fwmark", mark: Number(vsLine[1]) }
          : { kind: "group", name: vsLine[1] ?? "" };
      service = {
        line: n,
        target,
        protocol: null,
        scheduler: null,
        persistenceTimeout: null,
        inhibitOnFailure: null,
        quorum: null,
        hysteresis: null,
        alive: null,
        quorumUp: null,
        sorryServer: null,
        realservers: [],
      };
      dump.services.push(service);
      rs = null;
      return;
    }
    if (service === null) return;
    const vs: CheckDumpService = service;
    const rip = /^ {3}RIP = (\S+), RPORT = (\d+), WEIGHT = (-?\d+) EFF WEIGHT = (-?\d+)/.exec(line);
    if (rip !== null) {
      rs = {
        line: n,
        address: canonicalAddress(rip[1] ?? "") ?? rip[1] ?? "",
        port: Number(rip[2]),
        weight: num(rip[3]),
        effectiveWeight: num(rip[4]),
        initialWeight: null,
        alive: null,
        inhibitOnFailure: null,
        forward: null,
        failedCheckers: null,
        checkers: [],
      };
      vs.realservers.push(rs);
      return;
    }
    const inhibit = /^ {3}Inhibit on failure is (ON|OFF)/.exec(line);
    const f = /^ {3}([^=]+?) = (.*)$/.exec(line);
    if (rs !== null) {
      const r: CheckDumpRealserver = rs;
      if (inhibit !== null) r.inhibitOnFailure = onOff(inhibit[1] ?? "");
      if (f === null) return;
      const [, key, value = ""] = f;
      if (key === "initial weight") r.initialWeight = num(value);
      if (key === "alive") r.alive = value === "1" ? true : value === "0" ? false : null;
      if (key === "forwarding method") r.forward = value.trim();
      if (key === "num failed checkers") r.failedCheckers = num(value);
      return;
    }
    if (inhibit !== null) vs.inhibitOnFailure = onOff(inhibit[1] ?? "");
    const quorum = /^ {3}quorum = (\d+), hysteresis = (\d+)/.exec(line);
    if (quorum !== null) {
      vs.quorum = Number(quorum[1]);
      vs.hysteresis = Number(quorum[2]);
      return;
    }
    const sorry = /^ {3}sorry server (?:\(duplicates rs\) )?= (\S+)/.exec(line);
    if (sorry !== null) vs.sorryServer = sorry[1] ?? null;
    if (f === null) return;
    const [, key, value = ""] = f;
    if (key === "lvs_sched") vs.scheduler = value.trim();
    if (key === "protocol") {
      const p = value.trim().toLowerCase();
      vs.protocol = p === "tcp" || p === "udp" || p === "sctp" ? p : null;
    }
    if (key === "persistence timeout") vs.persistenceTimeout = num(value);
    if (key === "alive") vs.alive = value === "1" ? true : value === "0" ? false : null;
    if (key === "quorum_state_up")
      vs.quorumUp = value === "1" ? true : value === "0" ? false : null;
  });
  for (const p of pending) {
    const vs = dump.services.find((s) => serviceLabel(s) === p.vs);
    const member = vs?.realservers.find((r) => {
      const [address, , port] = p.rs.split("|");
      return r.address === address && String(r.port) === port;
    });
    if (member === undefined) {
      dump.findings.push({
        line: p.checker.line,
        message: "a checker of a real server the dump does not list",
      });
    } else member.checkers.push(p.checker);
  }
  for (const s of dump.services) {
    for (const r of s.realservers) {
      if (r.alive === null) {
        dump.findings.push({
          line: r.line,
          message: `real server ${r.address}:${r.port} has no alive line`,
        });
      }
    }
  }
  return dump;
}

/** Whether keepalived holds the realserver as up: alive, or (older dumps) every checker up. */
export function realserverUp(r: CheckDumpRealserver): boolean | null {
  if (r.alive !== null) return r.alive;
  if (r.checkers.length === 0) return null;
  return r.checkers.every((c) => c.up === true);
}
