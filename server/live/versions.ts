/**
 * The rules behind recent version hashes, per director. A change carries only the version
 * the operator saw; when the director has moved on, this is what lets a CONFLICT say what
 * changed ("10.10.0.11:80 weight 1 -> 0") instead of just "something did".
 */
import "server-only";
import type { DirectorSnapshot } from "./types";
import { rulesOf, type ServiceWithRealservers } from "@/server/ipvs/rules";

const PER_DIRECTOR = 32;

const globalForVersions = globalThis as unknown as {
  lvsRuleVersions?: Map<string, Map<string, ServiceWithRealservers[]>>;
};
const byDirector: Map<
  string,
  Map<string, ServiceWithRealservers[]>
> = (globalForVersions.lvsRuleVersions ??= new Map<
  string,
  Map<string, ServiceWithRealservers[]>
>());

/** Remembers a snapshot's rules under its version (cheap; call on every poll). */
export function rememberSnapshot(
  snapshot: Pick<DirectorSnapshot, "directorId" | "version" | "services">,
): void {
  let versions = byDirector.get(snapshot.directorId);
  if (!versions) {
    versions = new Map<string, ServiceWithRealservers[]>();
    byDirector.set(snapshot.directorId, versions);
  }
  if (versions.has(snapshot.version)) {
    // Refresh its place: the newest versions are the ones operators still look at.
    const rules = versions.get(snapshot.version);
    versions.delete(snapshot.version);
    if (rules) versions.set(snapshot.version, rules);
    return;
  }
  versions.set(snapshot.version, rulesOf(snapshot.services));
  while (versions.size > PER_DIRECTOR) {
    const oldest = versions.keys().next();
    if (oldest.done) break;
    versions.delete(oldest.value);
  }
}

export function rulesAtVersion(
  directorId: string,
  version: string,
): ServiceWithRealservers[] | null {
  return byDirector.get(directorId)?.get(version) ?? null;
}
