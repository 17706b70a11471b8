/**
 * The explicit "trust this host key" step, after a HOST_KEY_UNKNOWN. Only for directors
 * whose key is not configured: a pinned fingerprint or a known_hosts entry is changed in
 * those files, never overridden from the browser. Never for a jump host: its key is pinned
 * in the config (REFUSED, reason "jump-host-key-not-configured").
 */
import "server-only";
import { readFile } from "node:fs/promises";
import type { DirectorConfig } from "@/server/config";
import { getDirector } from "@/server/config/directors";
import { recordAttempt, finishAttempt, type Actor } from "@/server/db/audit";
import { getTrustedHostKey, saveTrustedHostKey } from "@/server/db/host-keys";
import { getSshPool } from "@/server/db/ssh-pool";
import { ConsoleError } from "@/server/errors";
import { configuredPolicy, type TrustedHostKey } from "@/server/ssh/host-keys";
import { hostMatches, parseKnownHosts } from "@/server/ssh/known-hosts";

export async function trustHostKey(
  directorId: string,
  fingerprint: string,
  actor: Actor,
): Promise<TrustedHostKey> {
  const director = getDirector(directorId);
  const before = getTrustedHostKey(directorId);
  const auditId = recordAttempt({
    user: actor.name,
    remoteAddress: actor.remoteAddress ?? null,
    action: "hostKey.trust",
    clusterId: director.clusterId,
    directors: [directorId],
    summary: `trust host key ${fingerprint} of ${directorId}${before ? ` (replacing ${before.fingerprint})` : ""}`,
    change: { directorId, fingerprint, replaces: before?.fingerprint ?? null },
  });
  const error = await refusal(director);
  if (error) {
    finishAttempt(auditId, { result: "refused", error: error.toJSON() });
    throw error;
  }
  const saved = saveTrustedHostKey(directorId, fingerprint, actor.name);
  finishAttempt(auditId, { result: "ok" });
  // The director may be waiting out a backoff after the refusal: connect at the next poll.
  getSshPool().resetBackoff(directorId);
  return saved;
}

/** Why the browser may not set this director's key, or null when it may. */
async function refusal(director: DirectorConfig): Promise<ConsoleError | null> {
  const jump = director.jumpHost;
  // A jump host's key is never trusted from the browser (the config requires it pinned or
  // in known_hosts). While the console cannot check it, no connection gets past the jump
  // host, so any HOST_KEY_UNKNOWN the admin saw was the jump host's: trusting it would
  // record the bastion's key as the director's.
  if (jump && jump.hostKeyFingerprint === undefined && !(await knownHostsLists(jump))) {
    return new ConsoleError(
      "REFUSED",
      `the host key of the jump host ${jump.host}:${jump.port} of ${director.id} is not in ${jump.knownHostsPath ?? "its known_hosts file"}: add it there (or set jumpHost.hostKeyFingerprint in lvs-console.yaml). Jump host keys are not trusted from the console`,
      { directorId: director.id, role: "jumpHost", reason: "jump-host-key-not-configured" },
    );
  }
  const policy = configuredPolicy(director);
  if (policy === "pinned" || (policy === "known_hosts" && (await knownHostsLists(director)))) {
    return new ConsoleError(
      "REFUSED",
      `the host key of ${director.id} is set in ${policy === "pinned" ? "lvs-console.yaml (hostKeyFingerprint)" : director.knownHostsPath}: change it there`,
      { directorId: director.id, reason: "host-key-configured" },
    );
  }
  return null;
}

/** Whether a known_hosts file has an entry for the host (then its key is checked there). */
async function knownHostsLists(
  endpoint: Pick<DirectorConfig, "knownHostsPath" | "host" | "port">,
): Promise<boolean> {
  if (endpoint.knownHostsPath === undefined) return false;
  try {
    const entries = parseKnownHosts(await readFile(endpoint.knownHostsPath, "utf8"));
    return entries.some(
      (e) => e.marker === null && hostMatches(e.hosts, endpoint.host, endpoint.port),
    );
  } catch {
    return false;
  }
}
