/**
 * ipvsadm and sysctl command builders. Each returns an argv (never a shell string: quoting
 * happens once, in server/ssh/quote.ts) and validates its whole input against the model's
 * schemas, plus the cross-field rules the kernel and ipvsadm enforce (rule-checks.ts), before
 * any argv exists.
 *
 * Pure: no I/O.
 */
import { z } from "zod";
import { ConsoleError } from "@/server/errors";
import {
  endpointSchema,
  formatEndpoint,
  formatServiceKey,
  realserverRuleSchema,
  sameEndpoint,
  sameServiceKey,
  serviceKeySchema,
  serviceRuleSchema,
  sysctlSettingSchema,
  weightSchema,
  type Endpoint,
  type RealserverRule,
  type ServiceKey,
  type ServiceRule,
  type SysctlSetting,
} from "./model";
import {
  membershipIssues,
  realserverRuleIssues,
  serviceRuleIssues,
  type RuleIssue,
} from "./rule-checks";

export type ServiceKeyInput = z.input<typeof serviceKeySchema>;
export type ServiceRuleInput = z.input<typeof serviceRuleSchema>;
export type RealserverRuleInput = z.input<typeof realserverRuleSchema>;
export type EndpointInput = z.input<typeof endpointSchema>;
export type SysctlSettingInput = z.input<typeof sysctlSettingSchema>;
export interface RuleSetInput {
  services: ReadonlyArray<ServiceRuleInput & { realservers: readonly RealserverRuleInput[] }>;
}

/** Collects problems from several inputs so one error names every bad field. */
class Problems {
  private readonly fields = new Map<string, string>();

  parse<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      this.add(
        prefix,
        issue.path.map((p) => (typeof p === "symbol" ? p.toString() : p)),
        issue.message,
      );
    }
    return undefined;
  }

  addAll(prefix: string, issues: readonly RuleIssue[]): void {
    for (const issue of issues) this.add(prefix, issue.path, issue.message);
  }

  add(prefix: string, path: ReadonlyArray<string | number>, message: string): void {
    const name = [prefix, ...path.map(String)].filter((p) => p !== "").join(".");
    if (!this.fields.has(name)) this.fields.set(name, message);
  }

  throwIfAny(): void {
    const first = this.fields.entries().next();
    if (first.done) return;
    const [name, message] = first.value;
    const more = this.fields.size - 1;
    throw new ConsoleError(
      "VALIDATION",
      `${name}: ${message}${more > 0 ? ` (and ${more} more problem${more > 1 ? "s" : ""})` : ""}`,
      { fields: Object.fromEntries(this.fields) },
    );
  }
}

/** Narrowing helper: after throwIfAny(), every value parse() returned is defined. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new ConsoleError("INTERNAL", "validation passed without a value");
  return value;
}

function checkServiceRule(input: ServiceRuleInput): ServiceRule {
  const problems = new Problems();
  const rule = problems.parse(serviceRuleSchema, input, "service");
  if (rule) problems.addAll("service", serviceRuleIssues(rule));
  problems.throwIfAny();
  return defined(rule);
}

function checkKey(input: ServiceKeyInput, problems: Problems): ServiceKey | undefined {
  return problems.parse(serviceKeySchema, input, "service");
}

function checkMember(
  keyInput: ServiceKeyInput,
  rsInput: RealserverRuleInput,
): { key: ServiceKey; rs: RealserverRule } {
  const problems = new Problems();
  const key = checkKey(keyInput, problems);
  const rs = problems.parse(realserverRuleSchema, rsInput, "realserver");
  if (rs) problems.addAll("realserver", realserverRuleIssues(rs));
  if (key && rs) problems.addAll("realserver", membershipIssues(key, rs));
  problems.throwIfAny();
  return { key: defined(key), rs: defined(rs) };
}

/** `-t VIP:PORT`, `-u ...`, `--sctp-service ...`, or `-f MARK [-6]`. */
function serviceArgs(key: ServiceKey): string[] {
  switch (key.kind) {
    case "tcp":
      return ["-t", formatEndpoint(key)];
    case "udp":
      return ["-u", formatEndpoint(key)];
    case "sctp":
      return ["--sctp-service", formatEndpoint(key)];
    case "fwm":
      return key.family === "inet6" ? ["-f", String(key.mark), "-6"] : ["-f", String(key.mark)];
  }
}

/** Every service attribute, in the order `ipvsadm -S` prints them. */
function serviceOptions(rule: ServiceRule): string[] {
  const argv = ["-s", rule.scheduler];
  if (rule.persistence) {
    argv.push("-p", String(rule.persistence.timeout));
    if (rule.persistence.netmask !== null) argv.push("-M", String(rule.persistence.netmask));
  }
  if (rule.pe !== null) argv.push("--pe", rule.pe);
  if (rule.ops) argv.push("-o");
  if (rule.schedFlags.length > 0) argv.push("-b", rule.schedFlags.join(","));
  return argv;
}

const FORWARD_FLAG = { masq: "-m", route: "-g", tunnel: "-i" } as const;

function tunnelArgs(rs: RealserverRule): string[] {
  const tunnel = rs.tunnel;
  if (rs.forward !== "tunnel" || tunnel === null) return [];
  const argv = ["--tun-type", tunnel.type];
  if (tunnel.type === "gue" && tunnel.port !== null) argv.push("--tun-port", String(tunnel.port));
  // The kernel's default (flags 0) is "no checksum": say which one we mean, always.
  if (tunnel.type !== "ipip") argv.push(tunnel.noChecksum ? "--tun-nocsum" : "--tun-csum");
  return argv;
}

function realserverArgs(
  key: ServiceKey,
  rs: RealserverRule,
  thresholds: "always" | "when-set",
): string[] {
  const argv = [
    ...serviceArgs(key),
    "-r",
    formatEndpoint(rs),
    FORWARD_FLAG[rs.forward],
    "-w",
    String(rs.weight),
  ];
  if (thresholds === "always" || rs.upperThreshold !== 0)
    argv.push("-x", String(rs.upperThreshold));
  if (thresholds === "always" || rs.lowerThreshold !== 0)
    argv.push("-y", String(rs.lowerThreshold));
  argv.push(...tunnelArgs(rs));
  return argv;
}

export function addService(rule: ServiceRuleInput): string[] {
  const r = checkServiceRule(rule);
  return ["ipvsadm", "-A", ...serviceArgs(r.key), ...serviceOptions(r)];
}

/** `ipvsadm -E` sets the whole service: every attribute is repeated, absent ones are cleared. */
export function editService(rule: ServiceRuleInput): string[] {
  const r = checkServiceRule(rule);
  return ["ipvsadm", "-E", ...serviceArgs(r.key), ...serviceOptions(r)];
}

/** `-D` also removes the service's realservers. */
export function deleteService(key: ServiceKeyInput): string[] {
  const problems = new Problems();
  const k = checkKey(key, problems);
  problems.throwIfAny();
  return ["ipvsadm", "-D", ...serviceArgs(defined(k))];
}

export function addRealserver(key: ServiceKeyInput, rs: RealserverRuleInput): string[] {
  const m = checkMember(key, rs);
  return ["ipvsadm", "-a", ...realserverArgs(m.key, m.rs, "when-set")];
}

/**
 * `ipvsadm -e` rewrites the whole destination: an option left out falls back to its default
 * (seen on the lab kernel: `-e ... -w 0` turned a Masq member into Route with thresholds 0/0).
 * So the forward method, weight, both thresholds and tunnel options are always given.
 */
export function editRealserver(key: ServiceKeyInput, rs: RealserverRuleInput): string[] {
  const m = checkMember(key, rs);
  return ["ipvsadm", "-e", ...realserverArgs(m.key, m.rs, "always")];
}

export function deleteRealserver(key: ServiceKeyInput, endpoint: EndpointInput): string[] {
  const problems = new Problems();
  const k = checkKey(key, problems);
  const e: Endpoint | undefined = problems.parse(endpointSchema, endpoint, "realserver");
  problems.throwIfAny();
  return ["ipvsadm", "-d", ...serviceArgs(defined(k)), "-r", formatEndpoint(defined(e))];
}

/** A weight change is an edit that repeats every other attribute of the current member. */
export function setWeight(
  key: ServiceKeyInput,
  current: RealserverRuleInput,
  weight: number,
): string[] {
  const problems = new Problems();
  const rs = problems.parse(realserverRuleSchema, current, "realserver");
  const w = problems.parse(weightSchema, weight, "weight");
  problems.throwIfAny();
  return editRealserver(key, { ...defined(rs), weight: defined(w) });
}

export function setSysctl(setting: SysctlSettingInput): string[] {
  const problems = new Problems();
  const s: SysctlSetting | undefined = problems.parse(sysctlSettingSchema, setting, "setting");
  problems.throwIfAny();
  const { name, value } = defined(s);
  return ["sysctl", "-w", `net.ipv4.vs.${name}=${value}`];
}

const ruleSetSchema = z.object({
  services: z.array(serviceRuleSchema.extend({ realservers: z.array(realserverRuleSchema) })),
});

/**
 * The commands that create a whole rule set on an empty table: per service, `-A` then its
 * `-a` lines. Validated as a whole (duplicates included) before anything is built.
 */
export function rulesetToArgv(ruleset: RuleSetInput): string[][] {
  const problems = new Problems();
  const parsed = problems.parse(ruleSetSchema, ruleset, "");
  if (parsed) {
    parsed.services.forEach((svc, i) => {
      problems.addAll(`services.${i}`, serviceRuleIssues(svc));
      if (parsed.services.findIndex((other) => sameServiceKey(other.key, svc.key)) !== i) {
        problems.add(`services.${i}`, ["key"], `${formatServiceKey(svc.key)} is listed twice`);
      }
      svc.realservers.forEach((rs, j) => {
        const prefix = `services.${i}.realservers.${j}`;
        problems.addAll(prefix, realserverRuleIssues(rs));
        problems.addAll(prefix, membershipIssues(svc.key, rs));
        if (svc.realservers.findIndex((other) => sameEndpoint(other, rs)) !== j) {
          problems.add(
            prefix,
            [],
            `${formatEndpoint(rs)} is listed twice in ${formatServiceKey(svc.key)}`,
          );
        }
      });
    });
  }
  problems.throwIfAny();
  return defined(parsed).services.flatMap((svc) => [
    ["ipvsadm", "-A", ...serviceArgs(svc.key), ...serviceOptions(svc)],
    ...svc.realservers.map((rs) => ["ipvsadm", "-a", ...realserverArgs(svc.key, rs, "when-set")]),
  ]);
}

/**
 * Lines for `ipvsadm -R` on stdin, in the format `ipvsadm -S -n` writes. ipvsadm splits
 * these lines on whitespace itself (no shell involved); every word was validated above and
 * holds none.
 */
export function restoreLines(ruleset: RuleSetInput): string[] {
  return rulesetToArgv(ruleset).map((argv) => {
    const words = argv.slice(1);
    if (words.some((w) => w === "" || /\s/.test(w))) {
      throw new ConsoleError("INTERNAL", "a restore line word holds whitespace", { argv });
    }
    return words.join(" ");
  });
}
