/**
 * "The pair stays identical" (issue 13): what differs between two directors of a cluster,
 * per service and realserver (their kernels) and, where keepalived owns the services, per
 * virtual_server block of their configs; and the plan that makes one like the other,
 * against the TARGET's own owner: keepalived-owned services by copying the source's
 * virtual_server blocks into the target's files (then `keepalived -t`, reload, kernel
 * verified by the transaction script), the rest by ipvsadm commands.
 *
 * Pure: kernels, configs and checker states come from the caller.
 */
import { ConsoleError, type RefusalReason } from "@/server/errors";
import { diffBlocks, copyBlocks, type BlockDiff } from "./keepalived/pair-blocks";
import { programmedServices } from "./keepalived/program";
import type { FileChange, KeepalivedConfig } from "./keepalived";
import { keepalivedPlan, serviceSaveArgs, type LastingPlan } from "./lasting/plan";
import { sha256, type KernelExpectation } from "./lasting/tx-script";
import { formatEndpoint, formatServiceKey, sameServiceKey, type ServiceKey } from "./model";
import type { RuleChange } from "./rule-diff";
import { rulesVersion, type ServiceWithRealservers } from "./rules";
import { syncCommands } from "./sync-commands";

export interface PairSide {
  directorId: string;
  /** The kernel's rules, from a FULL read. */
  services: readonly ServiceWithRealservers[];
  /** keepalived's config when keepalived runs on this director, else null. */
  keepalived: KeepalivedConfig | null;
  /** keepalived's checker says this member is down (its kernel weight is not the config's). */
  checkerDown?: (service: ServiceKey, rs: { address: string; port: number }) => boolean;
}

/** One difference between the two kernels, told both ways. */
export interface PairRuleItem {
  service: string;
  realserver: string | null;
  /** What the field is ("scheduler", "weight", "service", "realserver"). */
  field: string;
  /** The value on each director; null: it does not have it. */
  a: string | null;
  b: string | null;
  text: string;
  /** Why this difference is expected (a checker down on one side); null when it is not. */
  explained: string | null;
}

export interface PairDiff {
  a: string;
  b: string;
  rules: PairRuleItem[];
  blocks: BlockDiff[];
  /** Nothing differs but what checkers explain. */
  identical: boolean;
  /** Differences not explained by checkers: what the badge counts. */
  count: number;
}

function symmetric(c: RuleChange, a: PairSide, b: PairSide): PairRuleItem {
  const service = formatServiceKey(c.service);
  const member = "realserver" in c ? c.realserver : null;
  const realserver = member === null ? null : formatEndpoint(member);
  const down =
    member === null ? [] : [a, b].filter((side) => side.checkerDown?.(c.service, member) ?? false);
  const explained =
    down.length === 0
      ? null
      : `keepalived's checker says it is down on ${down.map((d) => d.directorId).join(" and ")}`;
  const where = realserver === null ? service : `${service} ${realserver}`;
  switch (c.kind) {
    case "serviceAdded":
    case "realserverAdded":
      return {
        service,
        realserver,
        field: realserver === null ? "service" : "realserver",
        a: "present",
        b: null,
        text: `${where}: only on ${a.directorId}`,
        explained,
      };
    case "serviceRemoved":
    case "realserverRemoved":
      return {
        service,
        realserver,
        field: realserver === null ? "service" : "realserver",
        a: null,
        b: "present",
        text: `${where}: only on ${b.directorId}`,
        explained,
      };
    case "serviceEdited":
    case "realserverEdited":
      return {
        service,
        realserver,
        field: c.field,
        a: c.to,
        b: c.from,
        text: `${where}: ${c.field} ${c.to} on ${a.directorId}, ${c.from} on ${b.directorId}`,
        explained,
      };
  }
}

/** Where `a` and `b` differ: kernels per service and realserver, configs per virtual_server. */
export function diffPair(a: PairSide, b: PairSide): PairDiff {
  const rules = syncCommands(b.services, a.services).changes.map((c) => symmetric(c, a, b));
  const blocks = diffBlocks(a.keepalived, b.keepalived);
  const count =
    rules.filter((r) => r.explained === null).length +
    blocks.filter((x) => x.status !== "same").length;
  return { a: a.directorId, b: b.directorId, rules, blocks, identical: count === 0, count };
}

/** The version of one side as a sync plan sees it: its kernel rules and its config files. */
export function sideVersion(side: PairSide): string {
  const files = side.keepalived
    ? Object.keys(side.keepalived.files)
        .sort()
        .map((f) => `${f}\0${sha256(side.keepalived?.files[f] ?? "")}`)
    : [];
  return sha256([rulesVersion(side.services), ...files].join("\n"));
}

export interface PairSyncPlan {
  source: string;
  target: string;
  /** The target's keepalived files and the transaction that loads them; null: none change. */
  keepalived: LastingPlan | null;
  /** ipvsadm commands on the target for the services keepalived does not own, in order. */
  commands: string[][];
  /** What will change on the target, in the operator's words. */
  changes: string[];
  notes: string[];
  nothingToDo: boolean;
}

export type PairSyncResult = { ok: true; plan: PairSyncPlan } | { ok: false; error: ConsoleError };

export interface PairSyncContext {
  configPath: string;
  at: Date;
  /** Verify polls, 50 ms apart (default 200: 10 s). */
  verifyTries?: number;
}

function refused(message: string, reason: RefusalReason, directorId: string) {
  return {
    ok: false as const,
    error: new ConsoleError("REFUSED", message, { reason, directorId }),
  };
}

/** What the target's kernel must show once keepalived loaded the copied blocks. */
function expectationOf(source: PairSide, blocks: readonly BlockDiff[]): KernelExpectation {
  const present: string[] = [];
  const absent: string[] = [];
  const programmed =
    source.keepalived === null ? [] : programmedServices(source.keepalived).services;
  for (const d of blocks) {
    if (d.status === "same") continue;
    const svc = serviceSaveArgs(d.key);
    if (d.status === "only-target") {
      absent.push(`-A ${svc}`);
      continue;
    }
    const p = programmed.find((s) => sameServiceKey(s.key, d.key));
    if (!p) continue;
    present.push(`-A ${svc} -s ${p.scheduler}`);
    // Members the source's kernel holds (its checkers pass) must appear on the target too.
    const kernel = source.services.find((s) => sameServiceKey(s.key, d.key));
    for (const rs of p.realservers) {
      if (kernel?.realservers.some((k) => k.address === rs.address && k.port === rs.port)) {
        present.push(`-a ${svc} -r ${formatEndpoint(rs)}`);
      }
    }
  }
  return { present, absent };
}

/**
 * The plan that makes `target` like `source`. Refused (nothing changes anywhere) when the
 * owners cannot be matched: keepalived owns services on one director and does not run on
 * the other, a block is a group or uses a $definition, the target's config has findings there.
 */
export function planPairSync(
  source: PairSide,
  target: PairSide,
  ctx: PairSyncContext,
): PairSyncResult {
  const blocks = diffBlocks(source.keepalived, target.keepalived);
  const keyed = blocks.map((b) => b.key);
  if ((source.keepalived === null) !== (target.keepalived === null) && keyed.length > 0) {
    const runs = source.keepalived !== null ? source : target;
    const not = runs === source ? target : source;
    return refused(
      `keepalived runs on ${runs.directorId} and not on ${not.directorId}: their keepalived services cannot be matched (start keepalived on ${not.directorId} first)`,
      "owners-differ",
      not.directorId,
    );
  }
  const outside = (s: ServiceWithRealservers) => !keyed.some((k) => sameServiceKey(k, s.key));
  const runtime = syncCommands(target.services.filter(outside), source.services.filter(outside));
  let keepalived: LastingPlan | null = null;
  const notes: string[] = [];
  let files: FileChange[] = [];
  if (source.keepalived !== null && target.keepalived !== null) {
    const copy = copyBlocks(source.keepalived, target.keepalived);
    if (!copy.ok) {
      return {
        ok: false,
        error: new ConsoleError(copy.error.code, `${target.directorId}: ${copy.error.message}`, {
          ...copy.error.details,
          directorId: target.directorId,
        }),
      };
    }
    files = copy.files;
    notes.push(...copy.notes);
  }
  if (files.length > 0) keepalived = keepalivedPlan(files, expectationOf(source, blocks), ctx);
  const changes = [
    ...blocks
      .filter((b) => b.status !== "same")
      .map((b) =>
        b.status === "only-target"
          ? `${b.name}: virtual_server removed from ${b.target?.file ?? "?"}`
          : b.status === "only-source"
            ? `${b.name}: virtual_server added (as in ${source.directorId}'s ${b.source?.file ?? "?"})`
            : `${b.name}: virtual_server at ${b.target?.file ?? "?"}:${b.target?.line ?? "?"} replaced by ${source.directorId}'s`,
      ),
    ...runtime.changes.map((c) => c.text),
  ];
  return {
    ok: true,
    plan: {
      source: source.directorId,
      target: target.directorId,
      keepalived,
      commands: runtime.argv,
      changes,
      notes,
      nothingToDo: keepalived === null && runtime.argv.length === 0,
    },
  };
}
