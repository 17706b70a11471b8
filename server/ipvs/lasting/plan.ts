/**
 * A lasting change to a keepalived-owned service, planned against ONE director's own
 * config (pairs may differ in layout): the minimal text edit (keepalived editor), the
 * transaction the director runs (tx-script.ts), what the kernel must show afterwards, and
 * the plain steps a preview lists ("edit FILE line 42, check the config, reload keepalived").
 *
 * Pure: the config comes parsed from the owner read; hashes cover exactly the texts read.
 */
import type { ConsoleError } from "@/server/errors";
import {
  addRealserver,
  addVirtualServer,
  deleteVirtualServer,
  editService,
  removeRealserver,
  setRealserverWeight,
  type FileChange,
  type KeepalivedConfig,
  type NewVirtualServer,
  type ServiceChanges,
} from "@/server/ipvs/keepalived";
import { formatEndpoint, type ServiceKey } from "@/server/ipvs/model";
import { sha256, txStamp, type KernelExpectation, type TxPlan } from "./tx-script";

export type LastingChange =
  | {
      kind: "weight";
      service: ServiceKey;
      realserver: { address: string; port: number };
      weight: number;
    }
  | {
      kind: "add-realserver";
      service: ServiceKey;
      realserver: { address: string; port: number; weight: number };
    }
  | {
      kind: "remove-realserver";
      service: ServiceKey;
      realserver: { address: string; port: number };
    }
  | { kind: "edit-service"; service: ServiceKey; changes: ServiceChanges }
  /** A new virtual_server block, in the file where the others are. */
  | { kind: "add-service"; service: ServiceKey; spec: Omit<NewVirtualServer, "key"> }
  | { kind: "delete-service"; service: ServiceKey };

export interface LastingPlan {
  files: FileChange[];
  tx: TxPlan;
  /** "edit /etc/keepalived/conf.d/app.conf line 12, check the config, reload keepalived" */
  steps: string;
  notes: string[];
}

export type LastingPlanResult =
  { ok: true; plan: LastingPlan } | { ok: false; error: ConsoleError };

export interface LastingContext {
  configPath: string;
  /** Now, for the copies' names. */
  at: Date;
  /** keepalived's checker says this member is down: the kernel keeps 0 (or drops it). */
  checkerDown?: (service: ServiceKey, rs: { address: string; port: number }) => boolean;
  /** Verify polls, 50 ms apart (default 200: 10 s). */
  verifyTries?: number;
}

export function serviceSaveArgs(key: ServiceKey): string {
  if (key.kind === "fwm") return `-f ${key.mark}`;
  const flag = key.kind === "tcp" ? "-t" : key.kind === "udp" ? "-u" : "--sctp-service";
  return `${flag} ${formatEndpoint(key)}`;
}

function memberPrefix(key: ServiceKey, rs: { address: string; port: number }): string {
  return `-a ${serviceSaveArgs(key)} -r ${formatEndpoint(rs)}`;
}

/**
 * What `ipvsadm-save -n` must show once keepalived has loaded the change: lines that must
 * start with (or be) `present`, none that start with `absent` (word boundaries).
 */
export function expectation(change: LastingChange, ctx: LastingContext): KernelExpectation {
  switch (change.kind) {
    case "weight":
      if (ctx.checkerDown?.(change.service, change.realserver)) return { present: [], absent: [] };
      return {
        present: [`${memberPrefix(change.service, change.realserver)} -m -w ${change.weight}`],
        absent: [],
      };
    case "add-realserver":
      return { present: [memberPrefix(change.service, change.realserver)], absent: [] };
    case "remove-realserver":
      return { present: [], absent: [memberPrefix(change.service, change.realserver)] };
    case "edit-service": {
      const c = change.changes;
      let head = `-A ${serviceSaveArgs(change.service)}`;
      if (c.scheduler) head += ` -s ${c.scheduler}`;
      if (c.persistence) head += ` -p ${c.persistence.timeout}`;
      return { present: [head], absent: [] };
    }
    case "add-service":
      return {
        present: [
          `-A ${serviceSaveArgs(change.service)} -s ${change.spec.scheduler}`,
          ...change.spec.realservers.map((rs) => memberPrefix(change.service, rs)),
        ],
        absent: [],
      };
    case "delete-service":
      return {
        present: [],
        absent: [`-A ${serviceSaveArgs(change.service)}`, `-a ${serviceSaveArgs(change.service)}`],
      };
  }
}

function edit(config: KeepalivedConfig, change: LastingChange) {
  switch (change.kind) {
    case "weight":
      return setRealserverWeight(config, change.service, change.realserver, change.weight);
    case "add-realserver":
      return addRealserver(config, change.service, change.realserver);
    case "remove-realserver":
      return removeRealserver(config, change.service, change.realserver);
    case "edit-service":
      return editService(config, change.service, change.changes);
    case "add-service":
      return addVirtualServer(config, { ...change.spec, key: change.service });
    case "delete-service":
      return deleteVirtualServer(config, change.service);
  }
}

/** "edit A line 12, edit B line 4, check the config, reload keepalived" */
export function stepsText(files: readonly FileChange[]): string {
  const edits = files.map((f) => {
    const lines = f.changes.map((c) => c.oldStart);
    const at = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.join(", ")}`;
    return `edit ${f.file} ${at}`;
  });
  return [...edits, "check the config", "reload keepalived", "wait for the kernel to match"].join(
    ", ",
  );
}

export function planLasting(
  config: KeepalivedConfig,
  change: LastingChange,
  ctx: LastingContext,
): LastingPlanResult {
  const result = edit(config, change);
  if (!result.ok) return result;
  const notes = [...result.notes];
  const down =
    "realserver" in change && (ctx.checkerDown?.(change.service, change.realserver) ?? false);
  if (down) {
    notes.push(
      `${formatEndpoint(change.realserver)}: keepalived's checker says it is down, so the kernel keeps it at 0 until it recovers; the config then decides`,
    );
  }
  const files = result.files.filter((f) => f.before !== f.after);
  const plan = keepalivedPlan(files, expectation(change, ctx), ctx);
  return {
    ok: true,
    plan: {
      ...plan,
      notes,
      steps: files.length === 0 ? "nothing to do: the config already says so" : plan.steps,
    },
  };
}

/** The transaction that writes `files` (hashed as read), checks, reloads and waits for `expect`. */
export function keepalivedPlan(
  files: FileChange[],
  expect: KernelExpectation,
  ctx: Pick<LastingContext, "configPath" | "at" | "verifyTries">,
): LastingPlan {
  return {
    files,
    notes: [],
    steps: stepsText(files),
    tx: {
      mode: "keepalived",
      configPath: ctx.configPath,
      stamp: txStamp(ctx.at),
      verifyTries: ctx.verifyTries ?? 200,
      expect,
      files: files.map((f) => ({ path: f.file, expectedHash: sha256(f.before), content: f.after })),
    },
  };
}

/** The version part the owner's files add: one hash over every file the config read. */
export function ownerFilesVersion(config: KeepalivedConfig): string {
  const parts = Object.keys(config.files)
    .sort()
    .map((f) => `${f}\0${sha256(config.files[f] ?? "")}`);
  return sha256(parts.join("\n"));
}
