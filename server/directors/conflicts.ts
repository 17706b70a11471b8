/**
 * CONFLICT: the rules of a director are not the ones the change was planned on. Found twice:
 * by the fresh read before planning (against the versions the operator saw), and by the
 * read under the director's lock, right before the commands (against the plan's read).
 */
import "server-only";
import { ConsoleError } from "@/server/errors";
import { SETTABLE_SYSCTLS } from "@/server/ipvs/model";
import { diffRules, type RuleChange } from "@/server/ipvs/rule-diff";
import { rulesOf } from "@/server/ipvs/rules";
import type { DirectorSnapshot } from "@/server/live/types";
import { rulesAtVersion } from "@/server/live/versions";
import type { PlannedDirector } from "./operation";
import type { DirectorOutcome } from "./run-director";

export interface Conflict {
  directorId: string;
  expected: string | null;
  actual: string;
  /** What changed, when the rules behind the expected version are still known. */
  changes: Array<RuleChange>;
  /** The sysctls the console sets that changed ("expire_nodest_conn 0 -> 1"). */
  sysctls: string[];
  /** false: the rules the operator saw are no longer known, so only "it changed" can be said. */
  known: boolean;
}

export function findConflicts(
  snapshots: DirectorSnapshot[],
  expected: Record<string, string>,
): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const s of snapshots) {
    const version = expected[s.directorId];
    if (version === s.version) continue;
    const seen = version === undefined ? null : rulesAtVersion(s.directorId, version);
    conflicts.push({
      directorId: s.directorId,
      expected: version ?? null,
      actual: s.version,
      changes: seen ? diffRules(seen, rulesOf(s.services)) : [],
      sysctls: [],
      known: seen !== null,
    });
  }
  return conflicts;
}

/** The directors whose read under the lock differed from the plan's read. */
export function lockedConflicts(
  planned: readonly PlannedDirector[],
  outcomes: readonly DirectorOutcome[],
): Conflict[] {
  return outcomes.flatMap((o) => {
    const p = planned.find((x) => x.director.id === o.result.directorId);
    if (o.stopped?.why !== "conflict" || !p) return [];
    const locked = o.stopped.locked;
    const sysctls = Object.keys(SETTABLE_SYSCTLS).flatMap((name) => {
      const was = (p.snapshot.sysctls[name] ?? []).join(" ");
      const now = (locked.sysctls[name] ?? []).join(" ");
      return was === now ? [] : [`net.ipv4.vs.${name} ${was || "missing"} -> ${now || "missing"}`];
    });
    return [
      {
        directorId: p.director.id,
        expected: p.snapshot.version,
        actual: locked.version,
        changes: diffRules(rulesOf(p.snapshot.services), rulesOf(locked.services)),
        sysctls,
        known: true,
      },
    ];
  });
}

export function conflictError(conflicts: readonly Conflict[], auditId: number): ConsoleError {
  const what = (c: Conflict) => [...c.changes.map((ch) => ch.text), ...c.sysctls].join("; ");
  return new ConsoleError(
    "CONFLICT",
    `the rules changed since you looked: ${conflicts
      .map((c) => `${c.directorId}${what(c) ? ` (${what(c)})` : ""}`)
      .join(", ")}`,
    {
      auditId,
      directors: [...conflicts],
      changes: conflicts.flatMap((c) =>
        c.changes.map((ch) => ({ ...ch, directorId: c.directorId })),
      ),
    },
  );
}
