/**
 * OpenSSH known_hosts files: plain entries ("host,alias ssh-ed25519 AAAA..."), entries for
 * a non-default port ("[host]:2222 ..."), hashed entries ("|1|salt|hash ...", written by
 * HashKnownHosts), wildcard and negated patterns, the @revoked marker, and @cert-authority
 * lines checked against host certificates (host-certificate.ts). The configured file and
 * the system-wide ones (/etc/ssh/ssh_known_hosts, ssh_known_hosts2) are read together, as
 * `ssh` does. Pure but for loadKnownHosts, whose reader and global files are injectable.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { fingerprintOf, keyTypeOf } from "./fingerprint";
import { CERT_SUFFIX, hostCertificateProblem, parseHostCertificate } from "./host-certificate";

export interface KnownHostEntry {
  /** The file it came from, for messages (empty when parsed from text alone). */
  file: string;
  /** 1-based line in the file, for messages. */
  line: number;
  marker: "revoked" | "cert-authority" | null;
  /** The host field as written (patterns or a hashed name). */
  hosts: string;
  keyType: string;
  key: Buffer;
  fingerprint: string;
}

export function parseKnownHosts(text: string, file = ""): KnownHostEntry[] {
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
    entries.push({
      file,
      line: index + 1,
      marker,
      hosts,
      keyType,
      key,
      fingerprint: fingerprintOf(key),
    });
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
  /** For a certificate, `entry` is the @cert-authority line of the CA that signed it. */
  | { kind: "match"; entry: KnownHostEntry }
  | { kind: "revoked"; entry: KnownHostEntry }
  /** A certificate that is malformed (entry null), or signed by a CA trusted for the host but not acceptable (expired, for another host, ...). */
  | { kind: "bad-certificate"; entry: KnownHostEntry | null; reason: string }
  /** The file knows the host, but not this key: refuse. */
  | { kind: "mismatch"; expected: string[] }
  /** The file does not mention the host. */
  | { kind: "unknown" };

/**
 * What known_hosts says of the key a host presented. A host certificate is accepted when an
 * @cert-authority line for the host names its CA and `ssh` would accept it; signed by no
 * such CA, its plain key is checked as any other, as `ssh` does.
 */
export function checkKnownHosts(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  rawKey: Buffer,
  nowSeconds = Date.now() / 1000,
): KnownHostsVerdict {
  const revoked = entries.find((e) => e.marker === "revoked" && e.key.equals(rawKey));
  if (revoked) return { kind: "revoked", entry: revoked };
  if (keyTypeOf(rawKey).endsWith(CERT_SUFFIX)) {
    const cert = parseHostCertificate(rawKey);
    if (!cert) return { kind: "bad-certificate", entry: null, reason: "it is malformed" };
    const revokedPart = entries.find(
      (e) =>
        e.marker === "revoked" && (e.key.equals(cert.publicKey) || e.key.equals(cert.signatureKey)),
    );
    if (revokedPart) return { kind: "revoked", entry: revokedPart };
    const authority = entries.find(
      (e) =>
        e.marker === "cert-authority" &&
        e.key.equals(cert.signatureKey) &&
        hostMatches(e.hosts, host, port),
    );
    if (!authority) return checkKnownHosts(entries, host, port, cert.publicKey, nowSeconds);
    const problem = hostCertificateProblem(cert, host.toLowerCase(), nowSeconds);
    return problem === null
      ? { kind: "match", entry: authority }
      : { kind: "bad-certificate", entry: authority, reason: problem };
  }
  const forHost = entries.filter((e) => e.marker === null && hostMatches(e.hosts, host, port));
  const same = forHost.find((e) => e.key.equals(rawKey));
  if (same) return { kind: "match", entry: same };
  if (forHost.length > 0) return { kind: "mismatch", expected: forHost.map((e) => e.fingerprint) };
  return { kind: "unknown" };
}

/** Whether the files have a (plain) key line for the host. */
export function knowsHostKey(entries: KnownHostEntry[], host: string, port: number): boolean {
  return entries.some((e) => e.marker === null && hostMatches(e.hosts, host, port));
}

/** OpenSSH's GlobalKnownHostsFile default. */
export const GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = [
  "/etc/ssh/ssh_known_hosts",
  "/etc/ssh/ssh_known_hosts2",
];

/** The system-wide files: LVS_CONSOLE_GLOBAL_KNOWN_HOSTS (colon-separated, empty for none) or OpenSSH's. */
export function globalKnownHostsFiles(
  env: Record<string, string | undefined> = process.env,
): readonly string[] {
  const setting = env.LVS_CONSOLE_GLOBAL_KNOWN_HOSTS;
  if (setting === undefined) return GLOBAL_KNOWN_HOSTS_FILES;
  return setting.split(":").filter((p) => p !== "");
}

export interface LoadKnownHostsOptions {
  globalFiles?: readonly string[];
  read?: (path: string) => string;
}

/**
 * The entries of the configured file (when there is one; it must be readable) followed by
 * those of the global files (a missing or unreadable one is skipped, as by `ssh`).
 */
export function loadKnownHosts(
  userFile: string | undefined,
  options: LoadKnownHostsOptions = {},
): KnownHostEntry[] {
  const read = options.read ?? ((path: string) => readFileSync(path, "utf8"));
  const entries = userFile === undefined ? [] : parseKnownHosts(read(userFile), userFile);
  for (const file of options.globalFiles ?? globalKnownHostsFiles()) {
    if (file === userFile) continue;
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
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
