/**
 * Attempts a crash left "pending": at start they become "interrupted" (before any new attempt
 * is recorded), then each involved director is read once so the entry says what it holds now,
 * or that it could not be read. Whether the commands ran is not known; the rules read are.
 */
import "server-only";
import { ConsoleError, toErrorJson } from "@/server/errors";
import { sameServiceKey } from "@/server/ipvs/model";
import { rulesOf } from "@/server/ipvs/rules";
import type { DirectorSnapshot } from "@/server/live/types";
import {
  interruptPending,
  recordHeldAfterInterruption,
  type AuditEntry,
  type DirectorRulesRecord,
  type HeldAfterInterruption,
} from "@/server/db/audit";
import { directorIo } from "./io";

/** The services the attempt recorded before it ran; every service when it recorded none. */
function heldRecord(entry: AuditEntry, snapshot: DirectorSnapshot): DirectorRulesRecord {
  const keys = entry.before[snapshot.directorId]?.services.map((s) => s.key) ?? [];
  const services = keys.length
    ? snapshot.services.filter((s) => keys.some((k) => sameServiceKey(k, s.key)))
    : snapshot.services;
  return { version: snapshot.version, services: rulesOf(services) };
}

/**
 * Marks the previous process's pending attempts interrupted (synchronously, before the first
 * await) and then records what their directors hold; each director is read once.
 */
export async function recoverInterruptedAttempts(): Promise<AuditEntry[]> {
  const entries = interruptPending();
  if (entries.length === 0) return entries;
  const io = directorIo();
  const reads = new Map<string, Promise<DirectorSnapshot>>();
  const read = (clusterId: string | null, directorId: string): Promise<DirectorSnapshot> => {
    const key = `${clusterId ?? ""}/${directorId}`;
    let p = reads.get(key);
    if (!p) {
      p = (async () => {
        if (clusterId === null)
          throw new ConsoleError("NOT_FOUND", `${directorId} has no cluster on record`);
        const director = io.getCluster(clusterId).directors.find((d) => d.id === directorId);
        if (!director)
          throw new ConsoleError("NOT_FOUND", `there is no director ${directorId} any more`, {
            directorId,
          });
        return io.readSnapshot(director);
      })();
      reads.set(key, p);
    }
    return p;
  };
  await Promise.all(
    entries.map(async (entry) => {
      const after: Record<string, DirectorRulesRecord> = {};
      const directors = await Promise.all(
        entry.directors.map(async (directorId): Promise<HeldAfterInterruption> => {
          try {
            const snapshot = await read(entry.clusterId, directorId);
            after[directorId] = heldRecord(entry, snapshot);
            return { directorId, read: true, version: snapshot.version };
          } catch (e) {
            return { directorId, read: false, unreachable: true, error: toErrorJson(e) };
          }
        }),
      );
      recordHeldAfterInterruption(entry.id, { after, directors });
      entry.after = after;
      entry.details = { interrupted: { at: Date.now(), directors } };
    }),
  );
  return entries;
}
