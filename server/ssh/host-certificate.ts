/**
 * OpenSSH host certificates (PROTOCOL.certkeys): parsing, and the checks `ssh` makes before
 * it believes one: a host certificate, valid now, naming the host (or no host), without
 * critical options, and signed by the CA key it carries. Pure; whether that CA is trusted
 * for the host is known_hosts' business (known-hosts.ts).
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";

export const CERT_SUFFIX = "-cert-v01@openssh.com";

const SSH_CERT_TYPE_HOST = 2;

export interface HostCertificate {
  /** "ssh-ed25519-cert-v01@openssh.com", ... */
  certType: string;
  /** The certified key as a plain wire-format public key ("ssh-ed25519" ...). */
  publicKey: Buffer;
  serial: bigint;
  /** 1 user, 2 host. */
  type: number;
  keyId: string;
  principals: string[];
  /** Seconds since the epoch; validBefore 2^64-1 is "forever". */
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: string[];
  /** The CA's wire-format public key. */
  signatureKey: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  /** The bytes the CA signed: everything before the signature. */
  signed: Buffer;
}

class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}
  string(): Buffer {
    if (this.offset + 4 > this.buf.length) throw new Error("truncated");
    const length = this.buf.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (start + length > this.buf.length) throw new Error("truncated");
    this.offset = start + length;
    return this.buf.subarray(start, start + length);
  }
  text(): string {
    return this.string().toString("utf8");
  }
  uint32(): number {
    if (this.offset + 4 > this.buf.length) throw new Error("truncated");
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  uint64(): bigint {
    if (this.offset + 8 > this.buf.length) throw new Error("truncated");
    const v = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

function wireString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/** Names packed as a list of strings (principals, the names of options). */
function names(packed: Buffer, withValues: boolean): string[] {
  const r = new Reader(packed);
  const out: string[] = [];
  while (!r.done) {
    out.push(r.text());
    if (withValues) r.string();
  }
  return out;
}

/** How many key fields follow the nonce, per certified key type. */
const KEY_FIELDS: Record<string, number> = {
  "ssh-ed25519": 1,
  "ecdsa-sha2-nistp256": 2,
  "ecdsa-sha2-nistp384": 2,
  "ecdsa-sha2-nistp521": 2,
  "ssh-rsa": 2,
};

/** A parsed certificate, or null when the blob is not a well-formed v01 certificate. */
export function parseHostCertificate(blob: Buffer): HostCertificate | null {
  try {
    const r = new Reader(blob);
    const certType = r.text();
    if (!certType.endsWith(CERT_SUFFIX)) return null;
    const keyType = certType.slice(0, -CERT_SUFFIX.length);
    const fields = KEY_FIELDS[keyType];
    if (fields === undefined) return null;
    r.string(); // nonce
    const keyParts: Buffer[] = [];
    for (let i = 0; i < fields; i++) keyParts.push(r.string());
    // RSA certificates carry e then n; the plain key is e, n as well.
    const publicKey = Buffer.concat([
      wireString(Buffer.from(keyType)),
      ...keyParts.map(wireString),
    ]);
    const serial = r.uint64();
    const type = r.uint32();
    const keyId = r.text();
    const principals = names(r.string(), false);
    const validAfter = r.uint64();
    const validBefore = r.uint64();
    const criticalOptions = names(r.string(), true);
    r.string(); // extensions
    r.string(); // reserved
    const signatureKey = r.string();
    const signed = blob.subarray(0, r.offset);
    const sig = new Reader(r.string());
    if (!r.done) return null;
    const signatureAlgorithm = sig.text();
    const signature = sig.string();
    return {
      certType,
      publicKey,
      serial,
      type,
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      signatureKey,
      signatureAlgorithm,
      signature,
      signed,
    };
  } catch {
    return null;
  }
}

const CURVES: Record<string, { crv: string; hash: string; size: number }> = {
  "ecdsa-sha2-nistp256": { crv: "P-256", hash: "sha256", size: 32 },
  "ecdsa-sha2-nistp384": { crv: "P-384", hash: "sha384", size: 48 },
  "ecdsa-sha2-nistp521": { crv: "P-521", hash: "sha512", size: 66 },
};

function unsigned(mpint: Buffer): Buffer {
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  return mpint.subarray(i);
}

function padTo(bytes: Buffer, size: number): Buffer | null {
  const b = unsigned(bytes);
  if (b.length > size) return null;
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
}

/** Whether `signature` (algorithm `algorithm`) over `data` verifies with an SSH public key. */
export function verifySshSignature(
  caKey: Buffer,
  algorithm: string,
  signature: Buffer,
  data: Buffer,
): boolean {
  try {
    const r = new Reader(caKey);
    const keyType = r.text();
    let key: KeyObject;
    if (keyType === "ssh-ed25519") {
      if (algorithm !== "ssh-ed25519") return false;
      key = createPublicKey({
        key: { kty: "OKP", crv: "Ed25519", x: r.string().toString("base64url") },
        format: "jwk",
      });
      return verify(null, data, key, signature);
    }
    const curve = CURVES[keyType];
    if (curve) {
      if (algorithm !== keyType) return false;
      r.string(); // curve name
      const q = r.string();
      if (q[0] !== 4 || q.length !== 1 + 2 * curve.size) return false;
      key = createPublicKey({
        key: {
          kty: "EC",
          crv: curve.crv,
          x: q.subarray(1, 1 + curve.size).toString("base64url"),
          y: q.subarray(1 + curve.size).toString("base64url"),
        },
        format: "jwk",
      });
      const s = new Reader(signature);
      const rr = padTo(s.string(), curve.size);
      const ss = padTo(s.string(), curve.size);
      if (!rr || !ss) return false;
      return verify(curve.hash, data, { key, dsaEncoding: "ieee-p1363" }, Buffer.concat([rr, ss]));
    }
    if (keyType === "ssh-rsa") {
      // Like OpenSSH's default CASignatureAlgorithms: no SHA-1 ("ssh-rsa") signatures.
      const hash =
        algorithm === "rsa-sha2-512" ? "sha512" : algorithm === "rsa-sha2-256" ? "sha256" : null;
      if (!hash) return false;
      const e = unsigned(r.string());
      const n = unsigned(r.string());
      key = createPublicKey({
        key: { kty: "RSA", e: e.toString("base64url"), n: n.toString("base64url") },
        format: "jwk",
      });
      return verify(hash, data, key, signature);
    }
    return false;
  } catch {
    return false;
  }
}

/** Why `ssh` would not believe this certificate for `hostname`, or null when it would. */
export function hostCertificateProblem(
  cert: HostCertificate,
  hostname: string,
  nowSeconds: number,
): string | null {
  if (cert.type !== SSH_CERT_TYPE_HOST) return "it is not a host certificate";
  const now = BigInt(Math.floor(nowSeconds));
  if (now < cert.validAfter) return "it is not valid yet";
  if (now >= cert.validBefore) return "it has expired";
  // As OpenSSH: a host certificate without principals is valid for any host the CA covers.
  if (cert.principals.length > 0 && !cert.principals.includes(hostname))
    return `it is for ${cert.principals.join(", ")}, not ${hostname}`;
  if (cert.criticalOptions.length > 0)
    return `it has critical options this client does not know (${cert.criticalOptions.join(", ")})`;
  if (!verifySshSignature(cert.signatureKey, cert.signatureAlgorithm, cert.signature, cert.signed))
    return "its CA signature does not verify";
  return null;
}
