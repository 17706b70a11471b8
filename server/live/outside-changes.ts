/**
 * Changes made outside the console: every good poll hands its snapshot here; when a
 * director's rules version moves and no console change explains it (server/db/outside.ts),
 * the diff goes to the audit log as "outside.change", by "keepalived" when the director's
 * owner view says keepalived put the rules where they are now, else "outside the console".
 * A drain whose realserver's weight came back is marked undone ("drain.undone") and leaves
 * the active drains.
 */
import "server-only";
import { finishAttempt, recordAttempt } from "@/server/db/audit";
import { closeDrainAsUndone, listDrains } from "@/server/db/drains";
import { consoleExplains } from "@/server/db/outside";
import { formatEndpoint, formatServiceKey, sameServiceKey } from "@/server/ipvs/model";
import type { DirectorOwner } from "@/server/live/owner-view";
import type { DirectorSnapshot } from "@/server/live/types";
import { diffRules, type RuleChange } from "@/server/ipvs/rule-diff";
import { rulesOf, type ServiceWithRealservers } from "@/server/ipvs/rules";

/** How far back a console attempt can explain a new version (a slow apply, a late poll). */
const EXPLAIN_WINDOW_MS = 10 * 60_000;

export const OUTSIDE_CONSOLE = "outside the console";

/**
 * Who made `changes`: "keepalived" when the owner view has keepalived owning every rule
 * touched and the kernel now holds what keepalived would (its configured weight, or 0 or
 * removed with its checker down); otherwise "outside the console". Pure.
 */
export function attribute(changes: readonly RuleChange[], owner: DirectorOwner | null): string {
  if (owner?.summary.kind !== "keepalived" || changes.length === 0) return OUTSIDE_CONSOLE;
  const byKeepalived = changes.every((c) => {
    const service = owner.services.find((s) => sameServiceKey(s.key, c.service));
    if (service?.owner.kind !== "keepalived") return false;
    if (c.kind === "serviceAdded" || c.kind === "serviceRemoved") return true;
    if (c.kind === "serviceEdited") return false;
    const rs = service.realservers.find(
      (r) => r.address === c.realserver.address && r.port === c.realserver.port,
    );
    if (rs?.owner.kind !== "keepalived") return false;
    if (c.kind === "realserverAdded") return rs.checker !== "down";
    if (c.kind === "realserverRemoved") return rs.checker === "down";
    if (c.field !== "weight") return false;
    const to = Number(c.to);
    return to === rs.configuredWeight || (to === 0 && rs.checker === "down");
  });
  return byKeepalived ? "keepalived" : OUTSIDE_CONSOLE;
}

interface Seen {
  version: string;
  rules: ServiceWithRealservers[];
}

const globalForOutside = globalThis as typeof globalThis & {
  __lvsConsoleOutside?: Map<string, Seen>;
};
const lastSeen = (globalForOutside.__lvsConsoleOutside ??= new Map<string, Seen>());

function touched(rules: readonly ServiceWithRealservers[], changes: readonly RuleChange[]) {
  return rules.filter((s) => changes.some((c) => sameServiceKey(c.service, s.key)));
}

/** Call on every good poll (registry.ts onSnapshot). Never throws. */
export function observeRules(snapshot: DirectorSnapshot): void {
  try {
    observe(snapshot);
  } catch (e) {
    console.error(`outside-change check for ${snapshot.directorId} failed`, e);
  }
}

function observe(snapshot: DirectorSnapshot): void {
  const id = snapshot.directorId;
  const previous = lastSeen.get(id);
  const rules = rulesOf(snapshot.services);
  lastSeen.set(id, { version: snapshot.version, rules });
  if (!previous || previous.version === snapshot.version) return;
  if (consoleExplains(id, snapshot.version, EXPLAIN_WINDOW_MS)) return;
  const changes = diffRules(previous.rules, rules);
  if (changes.length === 0) return;
  const by = attribute(changes, snapshot.owner ?? null);
  const summary = `${by === "keepalived" ? "keepalived" : "outside the console"}: ${changes.map((c) => c.text).join("; ")}`;
  const auditId = recordAttempt({
    user: by,
    action: "outside.change",
    clusterId: snapshot.clusterId,
    directors: [id],
    summary: summary.slice(0, 1000),
    change: { by, changes },
    before: { [id]: { version: previous.version, services: touched(previous.rules, changes) } },
    startedAt: snapshot.takenAt,
  });
  finishAttempt(auditId, {
    result: "ok",
    after: { [id]: { version: snapshot.version, services: touched(rules, changes) } },
  });
  markUndoneDrains(snapshot, changes, by);
}

type WeightBack = Extract<RuleChange, { kind: "realserverEdited" | "realserverAdded" }>;

/** Active drains of the cluster whose weight on this director came back above 0. */
function markUndoneDrains(
  snapshot: DirectorSnapshot,
  changes: readonly RuleChange[],
  by: string,
): void {
  const drains = listDrains({ clusterId: snapshot.clusterId, active: true });
  for (const drain of drains) {
    const back = changes.find((c): c is WeightBack => {
      const up =
        (c.kind === "realserverEdited" && c.field === "weight" && Number(c.to) > 0) ||
        c.kind === "realserverAdded";
      return (
        up &&
        c.realserver.address === drain.realserver.address &&
        (drain.realserver.port === null || drain.realserver.port === c.realserver.port) &&
        drain.original.some(
          (o) => o.directorId === snapshot.directorId && sameServiceKey(o.service, c.service),
        )
      );
    });
    if (!back) continue;
    const weight = back.kind === "realserverEdited" ? back.to : "its weight";
    const what = `${formatEndpoint(back.realserver)} in ${formatServiceKey(back.service)}`;
    closeDrainAsUndone({
      drain,
      by,
      directors: [snapshot.directorId],
      summary: `drain ${drain.id} undone on ${snapshot.directorId} by ${by}: ${what} back at weight ${weight}`,
      change: { service: back.service, realserver: back.realserver, weight },
      startedAt: snapshot.takenAt,
    });
  }
}
