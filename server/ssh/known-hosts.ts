/**
 * OpenSSH known_hosts files: plain entries ("host,alias ssh-ed25519 AAAA..."), entries for
 * a non-default port ("[host]:2222 ..."), hashed entries ("|1|salt|hash ...", written by
 * HashKnownHosts), wildcard and negated patterns, and the @revoked marker. Pure: the
 * caller reads the file.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { fingerprintOf, keyTypeOf } from "./fingerprint";

export interface KnownHostEntry {
  /** 1-based line in the file, for messages. */
  line: number;
  marker: "revoked" | "cert-authority" | null;
  /** The host field as written (patterns or a hashed name). */
  hosts: string;
  keyType: string;
  key: Buffer;
  fingerprint: string;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === "" || fields[0].startsWith("#")) return;
    let marker: KnownHostEntry["marker"] = null;
    if (fields[0].startsWith("@")) {
      if (fields[0] === "@revoked") marker = "revoked";
      else if (fields[0] === "@cert-authority") marker = "cert-authority";
      else return;
      fields.shift();
    }
    const [hosts, keyType, blob] = fields;
    if (hosts === undefined || keyType === undefined || blob === undefined) return;
    if (!/^[A-Za-z0-9+/]+={0,3}$/.test(blob)) return;
    const key = Buffer.from(blob, "base64");
    // A line whose blob names another key type is corrupt: OpenSSH skips it too.
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ line: index + 1, marker, hosts, keyType, key, fingerprint: fingerprintOf(key) });
  });
  return entries;
}

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
      .join("")}$`,
    "i",
  );
  return re.test(text);
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split("|");
  // "|1|salt|hash" splits into ["", "1", salt, hash]
  if (parts.length !== 4 || parts[1] !== "1" || parts[2] === undefined || parts[3] === undefined)
    return false;
  const salt = Buffer.from(parts[2], "base64");
  const expected = Buffer.from(parts[3], "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function hostMatches(hosts: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (hosts.startsWith("|")) return hashedMatch(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

export type KnownHostsVerdict =
  | { kind: "match"; entry: KnownHostEntry }
  | { kind: "revoked"; entry: KnownHostEntry }
  /** The file knows the host, but not this key: refuse. */
  | { kind: "mismatch"; expected: string[] }
  /** The file does not mention the host. */
  | { kind: "unknown" };

export function checkKnownHosts(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  rawKey: Buffer,
): KnownHostsVerdict {
  const revoked = entries.find((e) => e.marker === "revoked" && e.key.equals(rawKey));
  if (revoked) return { kind: "revoked", entry: revoked };
  const forHost = entries.filter((e) => e.marker === null && hostMatches(e.hosts, host, port));
  const same = forHost.find((e) => e.key.equals(rawKey));
  if (same) return { kind: "match", entry: same };
  if (forHost.length > 0) return { kind: "mismatch", expected: forHost.map((e) => e.fingerprint) };
  return { kind: "unknown" };
}

/** Key types the file holds for a host, so the handshake can prefer them. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  return [
    ...new Set(
      entries
        .filter((e) => e.marker === null && hostMatches(e.hosts, host, port))
        .map((e) => e.keyType),
    ),
  ];
}
