/**
 * Host key fingerprints, computed exactly like `ssh-keygen -lf`: "SHA256:" and the
 * base64 of the SHA-256 of the raw (wire-format) public key, without padding.
 */
import { createHash } from "node:crypto";

export function fingerprintOf(rawKey: Buffer): string {
  return `SHA256:${createHash("sha256").update(rawKey).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a wire-format public key ("ssh-ed25519", "ssh-rsa", ...). */
export function keyTypeOf(rawKey: Buffer): string {
  if (rawKey.length < 4) return "unknown";
  const length = rawKey.readUInt32BE(0);
  if (length === 0 || length > 64 || rawKey.length < 4 + length) return "unknown";
  return rawKey.subarray(4, 4 + length).toString("latin1");
}
