/**
 * The owner view of one director, as the live layer pushes it: who owns its rules
 * (keepalived, a rules file, nobody), keepalived's VRRP and checker state, the sync daemon,
 * and owner + drift per service and realserver (server/ipvs/keepalived owner.ts).
 *
 * Pure: built from the owner script's output (owner-script.ts) and the kernel's rules.
 * Plain data only, like types.ts: the browser gets it as is.
 */
import {
  debianAutoLoads,
  formatSource,
  ownership,
  parseCheckDump,
  parseKeepalivedConfig,
  parseVrrpDump,
  readRulesFile,
  summarizeOwnership,
  vrrpRole,
  type CheckDump,
  type KeepalivedConfig,
  type RulesFile,
  type ServiceOwnership,
} from "@/server/ipvs/keepalived";
import type { RuleSet } from "@/server/ipvs/model";
import type { OwnerRaw } from "./owner-script";

export type OwnerKind = "keepalived" | "rules-file" | "runtime";

/** The VRRP role of a director: MASTER carries the traffic. */
export type VrrpRole = "MASTER" | "BACKUP" | "FAULT" | "MIXED";

export interface OwnerFinding {
  severity: "error" | "warning";
  file: string;
  line: number;
  message: string;
  /** "file:line: message", for lists. */
  text: string;
}

export interface DirectorOwner {
  /** When the owner script ran (ms since epoch); light polls reuse it with new kernel rules. */
  readAt: number;
  /** Wall time of the owner script, ms. */
  costMs: number;
  summary: { kind: OwnerKind; label: string };
  keepalived: {
    installed: boolean;
    running: boolean;
    pid: number | null;
    /** "2.2.7", from `keepalived --version`. */
    version: string | null;
    configPath: string;
    files: string[];
    /** Whether its SIGUSR1 dump was read this time. */
    dumpRead: boolean;
  } | null;
  vrrp: Array<{
    name: string;
    state: string | null;
    syncGroup: string | null;
    virtualIps: string[];
  }>;
  role: VrrpRole | null;
  syncDaemon: Array<{ role: "master" | "backup"; text: string }>;
  rulesFile: { path: string; bootLoads: boolean; differs: boolean; error: string | null } | null;
  /** What the console could not fully understand, with file:line: never guessed around. */
  findings: OwnerFinding[];
  services: ServiceOwnership[];
  /** Drift items that keepalived does not explain (a checker down is expected, a drain is not). */
  driftCount: number;
}

/** What a full owner read leaves for the light polls in between. */
export interface OwnerInputs {
  readAt: number;
  costMs: number;
  raw: OwnerRaw;
  config: KeepalivedConfig | null;
  check: CheckDump | null;
  rulesFile: RulesFile | null;
}

function version(line: string | null): string | null {
  return line === null ? null : (/v(\d+(?:\.\d+)+)/.exec(line)?.[1] ?? null);
}

/** Debian's init script loads the file through `grep -v "^#" | ipvsadm -R`: comments are fine. */
function withoutComments(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.startsWith("#"))
    .join("\n");
}

function rulesFileOf(raw: OwnerRaw): RulesFile | null {
  const files = raw.rulesFiles;
  const debian = files["/etc/ipvsadm.rules"];
  if (debian !== undefined) {
    const defaults = files["/etc/default/ipvsadm"];
    return readRulesFile(
      "/etc/ipvsadm.rules",
      withoutComments(debian),
      defaults !== undefined && debianAutoLoads(defaults),
    );
  }
  const rhel = files["/etc/sysconfig/ipvsadm"];
  // ipvsadm.service loads it when enabled; without systemd's word, take the file as loaded.
  if (rhel !== undefined)
    return readRulesFile("/etc/sysconfig/ipvsadm", withoutComments(rhel), true);
  return null;
}

/** Parses what the owner script read (the config once per full read, not per poll). */
export function ownerInputs(raw: OwnerRaw, readAt: number, costMs: number): OwnerInputs {
  const k = raw.keepalived;
  const hasConfig = Object.keys(k.files).length > 0;
  return {
    readAt,
    costMs,
    raw,
    config: hasConfig ? parseKeepalivedConfig(k.configPath, k.files) : null,
    check: k.checkData === null ? null : parseCheckDump(k.checkData),
    rulesFile: rulesFileOf(raw),
  };
}

function roleOf(role: ReturnType<typeof vrrpRole>): VrrpRole | null {
  if (role === "unknown") return null;
  return role === "mixed" ? "MIXED" : role;
}

function syncDaemonOf(text: string | null): DirectorOwner["syncDaemon"] {
  if (text === null) return [];
  return text
    .split("\n")
    .map((line) => line.trim())
    .flatMap((line) => {
      const m = /^(master|backup) sync daemon/.exec(line);
      return m ? [{ role: m[1] as "master" | "backup", text: line }] : [];
    });
}

/** The owner view against the kernel's current rules. */
export function ownerView(inputs: OwnerInputs, kernel: RuleSet): DirectorOwner {
  const { raw, config } = inputs;
  const k = raw.keepalived;
  const running = k.pid !== null;
  const report = ownership({
    kernel,
    keepalived: config === null ? null : { config, running, check: inputs.check },
    rulesFile: inputs.rulesFile,
  });
  const vrrpDump = running && k.vrrpData !== null ? parseVrrpDump(k.vrrpData) : null;
  const vrrp = (vrrpDump?.instances ?? []).map((i) => ({
    name: i.name,
    state: i.state,
    syncGroup: i.syncGroup,
    virtualIps: i.virtualIps,
  }));
  const findings: OwnerFinding[] = report.findings.map((f) => ({
    severity: f.severity,
    file: f.file,
    line: f.line,
    message: f.message,
    text: `${formatSource(f)}: ${f.message}`,
  }));
  for (const path of k.cut) {
    findings.push({
      severity: "error",
      file: path,
      line: 1,
      message: "not read in full (too large, or past 64 files): the owner view may be off",
      text: `${path}: not read in full (too large, or past 64 files)`,
    });
  }
  if (running && k.dumpWaits !== null && k.checkData === null) {
    findings.push({
      severity: "warning",
      file: "/tmp/keepalived_check.data",
      line: 1,
      message: "keepalived did not write its checker dump: checker state unknown",
      text: "/tmp/keepalived_check.data: keepalived did not write its checker dump",
    });
  }
  const rf = report.rulesFile;
  const ver = version(k.version);
  let summary: DirectorOwner["summary"];
  if (running) {
    summary = { kind: "keepalived", label: `keepalived v${ver ?? "?"} at ${k.configPath}` };
  } else if (rf?.bootLoads) {
    summary = { kind: "rules-file", label: `rules file ${rf.path}` };
  } else {
    summary = {
      kind: "runtime",
      label: k.version !== null ? "runtime only (keepalived not running)" : "runtime only",
    };
  }
  const driftCount = summarizeOwnership(report).unexpectedDrift;
  return {
    readAt: inputs.readAt,
    costMs: inputs.costMs,
    summary,
    keepalived:
      k.version === null && !running
        ? null
        : {
            installed: k.version !== null,
            running,
            pid: k.pid,
            version: ver,
            configPath: k.configPath,
            files: Object.keys(k.files),
            dumpRead: k.checkData !== null || k.vrrpData !== null,
          },
    vrrp,
    role: vrrpDump === null ? null : roleOf(vrrpRole(vrrpDump)),
    syncDaemon: syncDaemonOf(raw.daemon),
    rulesFile: rf,
    findings,
    services: report.services,
    driftCount,
  };
}
