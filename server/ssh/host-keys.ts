/**
 * Strict host keys. A director's key must match, in this order: the fingerprint pinned in
 * lvs-console.yaml, else its known_hosts file, else a key an admin trusted through the UI
 * (kept by server/db/host-keys.ts, handed in as a TrustStore). An unknown key is a typed HOST_KEY_UNKNOWN the UI turns into an explicit
 * "trust this key" step; a key that differs from the expected one is HOST_KEY_CHANGED and
 * is never accepted silently.
 */
import "server-only";
import { ConsoleError } from "@/server/errors";
import { fingerprintOf, keyTypeOf } from "./fingerprint";
import { checkKnownHosts, knownKeyTypes, loadKnownHosts, type KnownHostEntry } from "./known-hosts";

export type HostKeyPolicy = "pinned" | "known_hosts" | "trusted" | "none";

export interface TrustedHostKey {
  directorId: string;
  fingerprint: string;
  trustedAt: number;
  trustedBy: string;
}

/** Where trusted keys live: the pool is handed one (SQLite in the console, a stub in tests). */
export interface TrustStore {
  get(directorId: string): TrustedHostKey | null;
}

/** What to check a presented key against (a director, or the jump host in front of it). */
export interface HostKeyTarget {
  directorId: string;
  /** "jumpHost" when this is the bastion in front of the director. */
  role: "director" | "jumpHost";
  host: string;
  port: number;
  hostKeyFingerprint?: string | undefined;
  knownHostsPath?: string | undefined;
}

export function configuredPolicy(
  target: Pick<HostKeyTarget, "hostKeyFingerprint" | "knownHostsPath">,
): HostKeyPolicy {
  if (target.hostKeyFingerprint !== undefined) return "pinned";
  if (target.knownHostsPath !== undefined) return "known_hosts";
  return "none";
}

/** The configured file (if any) and the system-wide ones (/etc/ssh/ssh_known_hosts). */
function readKnownHosts(path: string | undefined): KnownHostEntry[] {
  try {
    return loadKnownHosts(path);
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : "error";
    throw new ConsoleError(
      "HOST_KEY_UNKNOWN",
      `cannot read the known_hosts file ${path ?? "(global)"} (${code})`,
      { path },
    );
  }
}

/** Key types to offer first in the handshake, so a host known by its RSA key is not asked for ed25519. */
export function preferredKeyTypes(target: HostKeyTarget): string[] {
  if (target.hostKeyFingerprint !== undefined) return [];
  try {
    return knownKeyTypes(readKnownHosts(target.knownHostsPath), target.host, target.port);
  } catch {
    return [];
  }
}

/** null when the key is acceptable; the error to refuse the connection with otherwise. */
export function verifyHostKey(
  target: HostKeyTarget,
  rawKey: Buffer,
  trust: TrustStore,
): ConsoleError | null {
  const actual = fingerprintOf(rawKey);
  const keyType = keyTypeOf(rawKey);
  const who =
    target.role === "jumpHost"
      ? `the jump host ${target.host}:${target.port} of ${target.directorId}`
      : `director ${target.directorId}`;
  const changed = (expected: string | string[], source: string) =>
    new ConsoleError(
      "HOST_KEY_CHANGED",
      `the host key of ${who} is ${actual}, but ${source} expects ${Array.isArray(expected) ? expected.join(" or ") : expected}: refusing to connect (someone may be intercepting the connection, or the key was replaced)`,
      { directorId: target.directorId, role: target.role, expected, actual, keyType, source },
    );

  if (target.hostKeyFingerprint !== undefined) {
    return target.hostKeyFingerprint === actual
      ? null
      : changed(target.hostKeyFingerprint, "the pinned fingerprint in lvs-console.yaml");
  }
  // The configured known_hosts file and the system-wide ones, as ssh reads them.
  const verdict = checkKnownHosts(
    readKnownHosts(target.knownHostsPath),
    target.host,
    target.port,
    rawKey,
  );
  if (verdict.kind === "match") return null;
  if (verdict.kind === "revoked" || verdict.kind === "bad-certificate") {
    const source = verdict.entry?.file ?? "";
    const message =
      verdict.kind === "revoked"
        ? `the host key of ${who} (${actual}) is marked @revoked in ${source}`
        : `the host certificate of ${who} (${actual}) ${verdict.entry ? `is signed by the @cert-authority on line ${verdict.entry.line} of ${source}, but ` : ""}${verdict.reason}: refusing to connect`;
    return new ConsoleError("HOST_KEY_CHANGED", message, {
      directorId: target.directorId,
      role: target.role,
      expected: null,
      actual,
      keyType,
      source,
    });
  }
  if (verdict.kind === "mismatch")
    return changed(verdict.expected, target.knownHostsPath ?? "the global known_hosts file");
  if (target.role === "director") {
    const trusted = trust.get(target.directorId);
    if (trusted) {
      return trusted.fingerprint === actual
        ? null
        : changed(trusted.fingerprint, `the key ${trusted.trustedBy} trusted`);
    }
  }
  if (target.role === "jumpHost") {
    // No trust step for a bastion: its key belongs in the config (see trust.ts).
    return new ConsoleError(
      "HOST_KEY_UNKNOWN",
      `the host key of ${who} is not known: ${keyType} ${actual}. Jump host keys are not trusted from the console: compare it with "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub" on the jump host, then add it to ${target.knownHostsPath ?? "its known_hosts file"} or set jumpHost.hostKeyFingerprint in lvs-console.yaml`,
      { directorId: target.directorId, role: target.role, fingerprint: actual, keyType },
    );
  }
  return new ConsoleError(
    "HOST_KEY_UNKNOWN",
    `the host key of ${who} is not known: ${keyType} ${actual}. Compare it with "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub" on the host before trusting it`,
    { directorId: target.directorId, role: target.role, fingerprint: actual, keyType },
  );
}
