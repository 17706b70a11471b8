/**
 * The explicit "trust this host key" step, after a HOST_KEY_UNKNOWN. Only for directors
 * whose key is not configured: a pinned fingerprint or a known_hosts entry (the configured
 * file or the system-wide one) is changed in those files, never overridden from the browser.
 * Never for a jump host: its key is pinned in the config (REFUSED, reason
 * "jump-host-key-not-configured"). The caller names the key it replaces (null for a first
 * trust): two admins, or a stale page, never silently replace a key they did not see.
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { getDirector } from "@/server/config/directors";
import { recordAttempt, finishAttempt, type Actor } from "@/server/db/audit";
import { getTrustedHostKey, saveTrustedHostKey } from "@/server/db/host-keys";
import { getSshPool } from "@/server/db/ssh-pool";
import { ConsoleError } from "@/server/errors";
import { configuredPolicy, type TrustedHostKey } from "@/server/ssh/host-keys";
import { knowsHostKey, loadKnownHosts } from "@/server/ssh/known-hosts";

export function trustHostKey(
  directorId: string,
  fingerprint: string,
  /** The fingerprint trusted now, as the caller saw it; null when it saw none. */
  replaces: string | null,
  actor: Actor,
): TrustedHostKey {
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
  const error = refusal(director) ?? staleReplacement(directorId, replaces, before);
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

/** A trust that does not name the key it replaces (or names another one). */
function staleReplacement(
  directorId: string,
  replaces: string | null,
  before: TrustedHostKey | null,
): ConsoleError | null {
  const current = before?.fingerprint ?? null;
  if (replaces === current) return null;
  return new ConsoleError(
    "CONFLICT",
    current === null
      ? `no host key is trusted for ${directorId}, but this trust says it replaces ${replaces}: reload and check the key again`
      : `the trusted host key of ${directorId} is ${current} (trusted by ${before?.trustedBy ?? "?"}), but this trust ${replaces === null ? "names no key to replace" : `says it replaces ${replaces}`}: reload and check the key again`,
    { directorId, reason: "host-key-replaced", expected: current, replaces },
  );
}

/** Why the browser may not set this director's key, or null when it may. */
function refusal(director: DirectorConfig): ConsoleError | null {
  const jump = director.jumpHost;
  // A jump host's key is never trusted from the browser (the config requires it pinned or
  // in known_hosts). While the console cannot check it, no connection gets past the jump
  // host, so any HOST_KEY_UNKNOWN the admin saw was the jump host's: trusting it would
  // record the bastion's key as the director's.
  if (jump && jump.hostKeyFingerprint === undefined && !knownHostsLists(jump)) {
    return new ConsoleError(
      "REFUSED",
      `the host key of the jump host ${jump.host}:${jump.port} of ${director.id} is not in ${jump.knownHostsPath ?? "its known_hosts file"}: add it there (or set jumpHost.hostKeyFingerprint in lvs-console.yaml). Jump host keys are not trusted from the console`,
      { directorId: director.id, role: "jumpHost", reason: "jump-host-key-not-configured" },
    );
  }
  const policy = configuredPolicy(director);
  if (policy === "pinned" || knownHostsLists(director)) {
    return new ConsoleError(
      "REFUSED",
      `the host key of ${director.id} is set in ${policy === "pinned" ? "lvs-console.yaml (hostKeyFingerprint)" : (director.knownHostsPath ?? "the system-wide known_hosts file")}: change it there`,
      { directorId: director.id, reason: "host-key-configured" },
    );
  }
  return null;
}

/**
 * Whether a known_hosts file (configured or system-wide) has a key line for the host; then
 * its key is checked there. An @cert-authority line alone does not count: the SSH client
 * cannot receive host certificates (docs/auth.md), so such a host shows a plain key.
 */
function knownHostsLists(
  endpoint: Pick<DirectorConfig, "knownHostsPath" | "host" | "port">,
): boolean {
  try {
    return knowsHostKey(loadKnownHosts(endpoint.knownHostsPath), endpoint.host, endpoint.port);
  } catch {
    return false;
  }
}
