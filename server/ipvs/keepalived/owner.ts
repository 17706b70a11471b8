/**
 * Who owns each rule in the kernel (keepalived's config, the boot rules file, or nobody:
 * runtime only) and how the kernel drifted from its owner. Pure: the kernel's rules, the
 * parsed config, keepalived's checker dump and the rules file come from the caller.
 *
 * keepalived behaviour this encodes (measured on 2.2.7, ../shared/KEEPALIVED-NOTES.md): a
 * checker-down realserver stays at weight 0 with inhibit_on_failure and is removed without
 * it; a recovery or a restart puts the configured weight back; a reload applies only what
 * changed in the config; stopping keepalived deletes its virtual services.
 */
import {
  type RealserverRule,
  type RuleSet,
  sameEndpoint,
  sameServiceKey,
  type ServiceKey,
} from "@/server/ipvs/model";
import { type CheckDump, type CheckDumpRealserver, realserverUp } from "./dump";
import { type ProgrammedRealserver, type ProgrammedService, programmedServices } from "./program";
import { type RulesFile } from "./rules-file";
import { type Finding } from "./source";
import { type KeepalivedConfig } from "./types";
import { keepalivedRealserver, keepalivedService, undoNote } from "./undo";

export type Owner =
  | { kind: "keepalived"; file: string; line: number }
  | { kind: "rules-file"; path: string }
  | { kind: "runtime" };

export type DriftReason =
  "checker-down" | "keepalived-dynamic" | "drained" | "runtime-change" | "checker-state-unknown";

export type DriftItem =
  | {
      kind: "weight";
      kernel: number;
      configured: number;
      reason: DriftReason;
      expected: boolean;
      message: string;
    }
  | { kind: "member-unknown"; expected: boolean; message: string }
  | { kind: "member-missing"; reason: DriftReason | null; expected: boolean; message: string }
  | { kind: "service-missing"; expected: boolean; message: string }
  | { kind: "runtime-only"; expected: boolean; message: string }
  | {
      kind: "setting";
      field: "scheduler" | "persistence" | "forward";
      kernel: string;
      configured: string;
      expected: boolean;
      message: string;
    };

export interface RealserverOwnership {
  address: string;
  port: number;
  owner: Owner;
  inKernel: boolean;
  kernelWeight: number | null;
  /** The owner's weight: keepalived's config or the rules file; null for runtime only. */
  configuredWeight: number | null;
  inhibitOnFailure: boolean | null;
  /** keepalived's checker state from its dump; null when not read or not keepalived's. */
  checker: "up" | "down" | null;
  drift: DriftItem[];
  /** What will undo a runtime weight change of this realserver, for previews. */
  undo: string;
}

export interface ServiceOwnership {
  key: ServiceKey;
  owner: Owner;
  inKernel: boolean;
  drift: DriftItem[];
  realservers: RealserverOwnership[];
}

export interface OwnerInput {
  kernel: RuleSet;
  keepalived?: { config: KeepalivedConfig; running: boolean; check?: CheckDump | null } | null;
  rulesFile?: RulesFile | null;
}

export interface OwnerReport {
  services: ServiceOwnership[];
  /** The config's and the mapping's findings: where they are errors, the owner view may be off. */
  findings: Finding[];
  rulesFile: { path: string; bootLoads: boolean; differs: boolean; error: string | null } | null;
}

type KernelService = RuleSet["services"][number];

function dumpMember(
  check: CheckDump | null,
  service: ProgrammedService,
  rs: { address: string; port: number },
): CheckDumpRealserver | null {
  if (check === null) return null;
  const key = service.key;
  const vs = check.services.find((s) => {
    const t = s.target;
    if (service.virtualServer.target.kind === "group") {
      return t.kind === "group" && t.name === service.virtualServer.target.name;
    }
    if (key.kind === "fwm") return t.kind === "fwmark" && t.mark === key.mark;
    return (
      t.kind === "address" &&
      t.address === key.address &&
      t.port === key.port &&
      s.protocol === key.kind
    );
  });
  return vs?.realservers.find((r) => r.address === rs.address && r.port === rs.port) ?? null;
}

function persistenceText(p: KernelService["persistence"]): string {
  return p === null ? "none" : `${p.timeout}s${p.netmask === null ? "" : ` mask ${p.netmask}`}`;
}

function settingsDrift(
  kernel: KernelService,
  owner: KernelService | ProgrammedService,
  who: string,
): DriftItem[] {
  const drift: DriftItem[] = [];
  if (kernel.scheduler !== owner.scheduler) {
    drift.push({
      kind: "setting",
      field: "scheduler",
      kernel: kernel.scheduler,
      configured: owner.scheduler,
      expected: false,
      message: `${who}: scheduler ${owner.scheduler}, kernel ${kernel.scheduler}: changed at runtime`,
    });
  }
  const k = persistenceText(kernel.persistence);
  const o = persistenceText(owner.persistence);
  if (k !== o) {
    drift.push({
      kind: "setting",
      field: "persistence",
      kernel: k,
      configured: o,
      expected: false,
      message: `${who}: persistence ${o}, kernel ${k}: changed at runtime`,
    });
  }
  return drift;
}

function keepalivedMembers(
  service: ProgrammedService,
  kernel: KernelService | null,
  check: CheckDump | null,
): RealserverOwnership[] {
  const result: RealserverOwnership[] = [];
  const kernelMembers = kernel?.realservers ?? [];
  for (const rs of service.realservers) {
    const km = kernelMembers.find((k) => sameEndpoint(k, rs)) ?? null;
    const dumped = dumpMember(check, service, rs);
    // Without checkers keepalived holds a realserver up for good.
    const up = rs.checkers.length === 0 ? true : dumped === null ? null : realserverUp(dumped);
    result.push(keepalivedRealserver(service, rs, km, dumped, up));
  }
  for (const km of kernelMembers) {
    if (service.realservers.some((rs) => sameEndpoint(rs, km))) continue;
    const sorry = service.sorryServer !== null && sameEndpoint(service.sorryServer, km);
    const drift: DriftItem[] = [
      sorry
        ? {
            kind: "member-unknown",
            expected: true,
            message: "keepalived's sorry server: in while the service is below quorum",
          }
        : {
            kind: "member-unknown",
            expected: false,
            message:
              "runtime only: keepalived's config does not have it; lost when keepalived restarts or the director reboots",
          },
    ];
    result.push({
      address: km.address,
      port: km.port,
      owner:
        sorry && service.sorryServer
          ? {
              kind: "keepalived",
              file: service.sorryServer.source.file,
              line: service.sorryServer.source.line,
            }
          : { kind: "runtime" },
      inKernel: true,
      kernelWeight: km.weight,
      configuredWeight: null,
      inhibitOnFailure: null,
      checker: null,
      drift,
      undo: undoNote({ kind: "keepalived-unknown" }),
    });
  }
  return result;
}

function rulesFileMembers(
  path: string,
  file: KernelService,
  kernel: KernelService | null,
): RealserverOwnership[] {
  const result: RealserverOwnership[] = [];
  const kernelMembers = kernel?.realservers ?? [];
  const owner: Owner = { kind: "rules-file", path };
  for (const fm of file.realservers) {
    const km = kernelMembers.find((k) => sameEndpoint(k, fm)) ?? null;
    const drift: DriftItem[] = [];
    if (km === null) {
      drift.push({
        kind: "member-missing",
        reason: null,
        expected: false,
        message: `in ${path}, not in the kernel: a reboot adds it back`,
      });
    } else if (km.weight !== fm.weight) {
      drift.push({
        kind: "weight",
        kernel: km.weight,
        configured: fm.weight,
        reason: km.weight === 0 ? "drained" : "runtime-change",
        expected: false,
        message: `${path}: weight ${fm.weight}, kernel ${km.weight}: a reboot puts ${fm.weight} back`,
      });
    }
    result.push(
      member(
        fm,
        owner,
        km,
        fm.weight,
        drift,
        undoNote({ kind: "rules-file", path, weight: fm.weight }),
      ),
    );
  }
  for (const km of kernelMembers) {
    if (file.realservers.some((fm) => sameEndpoint(fm, km))) continue;
    const drift: DriftItem[] = [
      {
        kind: "member-unknown",
        expected: false,
        message: `runtime only: not in ${path}; lost at reboot`,
      },
    ];
    result.push(member(km, { kind: "runtime" }, km, null, drift, undoNote({ kind: "runtime" })));
  }
  return result;
}

function member(
  at: RealserverRule,
  owner: Owner,
  km: RealserverRule | null,
  configuredWeight: number | null,
  drift: DriftItem[],
  undo: string,
): RealserverOwnership {
  return {
    address: at.address,
    port: at.port,
    owner,
    inKernel: km !== null,
    kernelWeight: km?.weight ?? null,
    configuredWeight,
    inhibitOnFailure: null,
    checker: null,
    drift,
    undo,
  };
}

function sameRules(a: KernelService, b: KernelService): boolean {
  return (
    a.scheduler === b.scheduler &&
    persistenceText(a.persistence) === persistenceText(b.persistence) &&
    a.realservers.length === b.realservers.length &&
    a.realservers.every((r) =>
      b.realservers.some(
        (s) => sameEndpoint(r, s) && r.weight === s.weight && r.forward === s.forward,
      ),
    )
  );
}

export function ownership(input: OwnerInput): OwnerReport {
  const findings: Finding[] = [];
  const ka = input.keepalived ?? null;
  let programmed: ProgrammedService[] = [];
  if (ka !== null) {
    findings.push(...ka.config.findings);
    const p = programmedServices(ka.config);
    findings.push(...p.findings);
    // A stopped keepalived deleted its services: the kernel's rules are not its.
    if (ka.running) programmed = p.services;
  }
  const check = ka?.check ?? null;
  const flushes = ka?.running === true && ka.config.globalDefs?.lvsFlush === true;
  const rf = input.rulesFile ?? null;
  const fileRules = rf?.rules ?? null;
  const bootRules = rf?.bootLoads === true ? fileRules : null;

  const keys: ServiceKey[] = [];
  const addKey = (key: ServiceKey) => {
    if (!keys.some((k) => sameServiceKey(k, key))) keys.push(key);
  };
  input.kernel.services.forEach((s) => addKey(s.key));
  programmed.forEach((s) => addKey(s.key));
  bootRules?.services.forEach((s) => addKey(s.key));

  const services = keys.map((key): ServiceOwnership => {
    const kernel = input.kernel.services.find((s) => sameServiceKey(s.key, key)) ?? null;
    const kaService = programmed.find((s) => sameServiceKey(s.key, key)) ?? null;
    const fileService = bootRules?.services.find((s) => sameServiceKey(s.key, key)) ?? null;
    if (kaService !== null)
      return keepalivedService(
        kaService,
        kernel,
        keepalivedMembers(kaService, kernel, check),
        settingsDrift,
      );
    if (fileService !== null && rf !== null) {
      const drift: DriftItem[] =
        kernel === null
          ? [
              {
                kind: "service-missing",
                expected: false,
                message: `in ${rf.path}, not in the kernel: a reboot adds it back`,
              },
            ]
          : settingsDrift(kernel, fileService, rf.path);
      return {
        key,
        owner: { kind: "rules-file", path: rf.path },
        inKernel: kernel !== null,
        drift,
        realservers: rulesFileMembers(rf.path, fileService, kernel),
      };
    }
    const unloaded = fileRules?.services.some((s) => sameServiceKey(s.key, key)) === true;
    const message = unloaded
      ? `runtime only: lost at reboot (${rf?.path ?? "the rules file"} has it, but nothing loads it at boot)`
      : flushes
        ? "runtime only: lost at reboot, and when keepalived restarts (its lvs_flush empties IPVS)"
        : "runtime only: lost at reboot";
    return {
      key,
      owner: { kind: "runtime" },
      inKernel: true,
      drift: [{ kind: "runtime-only", expected: false, message }],
      realservers: (kernel?.realservers ?? []).map((km) =>
        member(km, { kind: "runtime" }, km, null, [], undoNote({ kind: "runtime" })),
      ),
    };
  });

  let differs = false;
  if (rf !== null && fileRules !== null) {
    differs =
      fileRules.services.length !== input.kernel.services.length ||
      fileRules.services.some((f) => {
        const k = input.kernel.services.find((s) => sameServiceKey(s.key, f.key));
        return k === undefined || !sameRules(k, f);
      });
  }
  return {
    services,
    findings,
    rulesFile:
      rf === null
        ? null
        : {
            path: rf.path,
            bootLoads: rf.bootLoads,
            differs: rf.error === null && differs,
            error: rf.error,
          },
  };
}

export type { ProgrammedRealserver };
