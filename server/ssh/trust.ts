/**
 * The explicit "trust this host key" step, after a HOST_KEY_UNKNOWN. Only for directors
 * whose key is not configured: a pinned fingerprint or a known_hosts entry is changed in
 * those files, never overridden from the browser.
 */
import "server-only";
import { readFile } from "node:fs/promises";
import { recordAttempt, finishAttempt } from "@/server/db/audit";
import { getDirector } from "@/server/directors/inventory";
import { ConsoleError } from "@/server/errors";
import {
  configuredPolicy,
  getTrustedHostKey,
  saveTrustedHostKey,
  type TrustedHostKey,
} from "./host-keys";
import { hostMatches, parseKnownHosts } from "./known-hosts";
import { getSshPool } from "./pool";

export async function trustHostKey(
  directorId: string,
  fingerprint: string,
  user: string,
  remoteAddress: string | null = null,
): Promise<TrustedHostKey> {
  const director = getDirector(directorId);
  const before = getTrustedHostKey(directorId);
  const auditId = recordAttempt({
    user,
    remoteAddress,
    action: "hostKey.trust",
    clusterId: director.clusterId,
    directors: [directorId],
    summary: `trust host key ${fingerprint} of ${directorId}${before ? ` (replacing ${before.fingerprint})` : ""}`,
    change: { directorId, fingerprint, replaces: before?.fingerprint ?? null },
  });
  const policy = configuredPolicy(director);
  if (policy === "pinned" || (policy === "known_hosts" && (await knownHostsLists(director)))) {
    const error = new ConsoleError(
      "REFUSED",
      `the host key of ${directorId} is set in ${policy === "pinned" ? "lvs-console.yaml (hostKeyFingerprint)" : director.knownHostsPath}: change it there`,
      { directorId, reason: "host-key-configured" },
    );
    finishAttempt(auditId, { result: "refused", error: error.toJSON() });
    throw error;
  }
  const saved = saveTrustedHostKey(directorId, fingerprint, user);
  finishAttempt(auditId, { result: "ok" });
  // The director may be waiting out a backoff after the refusal: connect at the next poll.
  getSshPool().resetBackoff(directorId);
  return saved;
}

/** Whether the director's known_hosts file has an entry for it (then trust goes there). */
async function knownHostsLists(director: ReturnType<typeof getDirector>): Promise<boolean> {
  if (director.knownHostsPath === undefined) return false;
  try {
    const entries = parseKnownHosts(await readFile(director.knownHostsPath, "utf8"));
    return entries.some(
      (e) => e.marker === null && hostMatches(e.hosts, director.host, director.port),
    );
  } catch {
    return false;
  }
}
