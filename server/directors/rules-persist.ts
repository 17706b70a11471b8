/**
 * Ordinary changes on directors whose rules a boot rules file holds (issue 13): the preview
 * says the running rules are saved to the file afterwards (with the file's diff), or that the
 * change is lost at reboot where nothing loads one; after a change the running rules are
 * saved (`ipvsadm-save -n`, atomic write, timestamped copy: rules-save.ts). If file and
 * kernel differed before the change, the operator chooses: save all, or leave the file.
 * Services keepalived owns go through its config instead (lasting.ts) and are skipped here.
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { restoreLines } from "@/server/ipvs/commands";
import { intendedRules } from "@/server/ipvs/intent";
import { diffLines } from "@/server/ipvs/keepalived/text";
import { rulesDiffer, rulesFileText } from "@/server/ipvs/lasting/rules-save";
import { sha256 } from "@/server/ipvs/lasting/tx-script";
import { sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import { parseSaved } from "@/server/ipvs/parse/saved";
import type { Change } from "@/server/ipvs/change";
import type { PreflightWarning } from "@/server/ipvs/preflight";
import type { DirectorSnapshot } from "@/server/live/types";
import { readOwner } from "@/server/live/owner";
import { ownerView } from "@/server/live/owner-view";
import { getSshPool } from "@/server/db/ssh-pool";
import { directorIo } from "./io";
import { unifiedDiff } from "./lasting";
import { previewRulesSave, saveRunningRules } from "./rules-save";

export type RulesFileChoice = "save" | "leave";

/** The one service an ordinary change touches; null for drains (by address) and sysctls. */
export function serviceOfChange(change: Change): ServiceKey | null {
  switch (change.kind) {
    case "addService":
    case "editService":
      return change.service.key;
    case "drain":
    case "undrain":
    case "setSysctl":
      return null;
    default:
      return change.service;
  }
}

type Owner = NonNullable<DirectorSnapshot["owner"]>;

function keepalivedOwns(owner: Owner, key: ServiceKey): boolean {
  return owner.services.some((s) => sameServiceKey(s.key, key) && s.owner.kind === "keepalived");
}

/** Preview warnings from the director's owner view: saved to PATH, differed before, or lost at reboot. */
export function persistWarnings(
  directorId: string,
  snapshot: DirectorSnapshot,
  change: Change,
): PreflightWarning[] {
  const owner = snapshot.owner;
  const service = serviceOfChange(change);
  if (!owner || service === null || keepalivedOwns(owner, service)) return [];
  const rf = owner.rulesFile;
  if (rf === null || !rf.bootLoads) {
    return [
      {
        code: "lost-at-reboot",
        directorId,
        service,
        message: `${directorId}: runtime only: no rules file loads at boot, so this change is lost at reboot`,
      },
    ];
  }
  const save: PreflightWarning = {
    code: "rules-file-save",
    directorId,
    service,
    message: `${directorId}: after the change the running rules are saved to ${rf.path} (ipvsadm-save -n, written atomically; the old file is kept as ${rf.path}.lvs-console.STAMP)`,
  };
  if (!rf.differs) return [save];
  return [
    save,
    {
      code: "rules-file-differs",
      directorId,
      service,
      message: `${directorId}: ${rf.path} and the kernel already differed before this change: saving writes those differences into the file too. Choose: save all, or leave the file alone`,
    },
  ];
}

export interface RulesFilePreview {
  directorId: string;
  path: string;
  differedBefore: boolean;
  /** sha256 of the file as read: the commit saves only if it is still this file. */
  fileHash: string;
  /** The file's rules before and after (normalized to ipvsadm-save's form), unified. */
  diff: string;
}

function normalized(text: string): string {
  try {
    return `${restoreLines(parseSaved(text)).join("\n")}\n`;
  } catch {
    return text;
  }
}

async function previewOne(
  director: DirectorConfig,
  change: Change,
): Promise<RulesFilePreview | null> {
  const pool = getSshPool();
  const [inputs, save] = await Promise.all([
    readOwner(pool, director),
    pool.execChecked(director, ["ipvsadm-save", "-n"], { timeoutMs: 10_000 }),
  ]);
  const rf = inputs?.rulesFile;
  if (!inputs || !rf || !rf.bootLoads) return null;
  const kernel = parseSaved(save.stdout);
  const view = inputs.config ? ownerView(inputs, kernel) : null;
  const service = serviceOfChange(change);
  const owned = view?.services.filter((s) => s.owner.kind === "keepalived").map((s) => s.key) ?? [];
  if (service === null || owned.some((k) => sameServiceKey(k, service))) return null;
  const before = inputs.raw.rulesFiles[rf.path] ?? "";
  const now = rulesFileText(save.stdout, owned);
  const after = rulesFileText(
    `${restoreLines({ services: intendedRules(kernel.services, change) }).join("\n")}\n`,
    owned,
  );
  const from = normalized(before);
  return {
    directorId: director.id,
    path: rf.path,
    differedBefore: rulesDiffer(before, now),
    fileHash: sha256(before),
    diff: unifiedDiff([
      { file: rf.path, before: from, after, changes: diffLines(rf.path, from, after) },
    ]),
  };
}

/** Per rules-file director: the file's diff the change brings, and whether it differed before. */
export async function previewRulesFiles(
  clusterId: string,
  change: Change,
): Promise<RulesFilePreview[]> {
  if (serviceOfChange(change) === null) return [];
  const cluster = directorIo().getCluster(clusterId);
  const all = await Promise.all(cluster.directors.map((d) => previewOne(d, change)));
  return all.filter((p) => p !== null);
}

export interface RulesFileSaveResult {
  directorId: string;
  path: string | null;
  result: "saved" | "unchanged" | "left-alone" | "conflict" | "failed";
  message: string;
}

/**
 * After the kernel change: saves the running rules on every director the change reached
 * whose boot rules file holds them. `expectedHashes` (from the preview) guard against a file
 * edited behind the console's back; a file that differed before needs the operator's choice.
 */
export async function saveAfterChange(input: {
  directors: readonly DirectorConfig[];
  changed: readonly string[];
  change: Change;
  choice: RulesFileChoice | undefined;
  expectedHashes: Record<string, string> | undefined;
}): Promise<RulesFileSaveResult[]> {
  const service = serviceOfChange(input.change);
  if (service === null) return [];
  const targets = input.directors.filter((d) => input.changed.includes(d.id));
  return Promise.all(
    targets.map(async (director): Promise<RulesFileSaveResult | null> => {
      try {
        const preview = await previewRulesSave(director);
        if (preview.path === null) return null;
        const base = { directorId: director.id, path: preview.path };
        if (input.choice === "leave")
          return { ...base, result: "left-alone", message: `${preview.path} left as it was` };
        const expected = input.expectedHashes?.[director.id];
        const hash = preview.plan?.tx.files[0]?.expectedHash ?? null;
        if (expected !== undefined && hash !== null && hash !== expected) {
          return {
            ...base,
            result: "conflict",
            message: `${preview.path} changed since the preview: not saved (save the rules again to write it)`,
          };
        }
        if (preview.plan === null)
          return { ...base, result: "unchanged", message: `${preview.path} already holds it` };
        await saveRunningRules(director);
        return { ...base, result: "saved", message: `saved to ${preview.path}` };
      } catch (e) {
        const message = e instanceof ConsoleError ? e.message : String(e);
        return { directorId: director.id, path: null, result: "failed", message };
      }
    }),
  ).then((all) => all.filter((r) => r !== null));
}
