/**
 * Password hashes as stored in the config: `scrypt$N$r$p$salt$hash` (salt and hash base64).
 * The parameters live in the string so they can be raised later without breaking old hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { parsePasswordHash, type ScryptParams } from "@/server/config/password-hash";

/**
 * OWASP's scrypt minimum (N=2^17, r=8, p=1): 128 MiB and a few hundred milliseconds per hash.
 * Hashes made with less are still accepted, and re-hashed at the next sign-in (needsRehash).
 */
export const DEFAULT_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(
  password: string,
  salt: Buffer,
  params: ScryptParams,
  keyLength: number,
): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node refuses above maxmem (32 MiB by default).
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, keyLength, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params, KEY_LENGTH);
  return [
    "scrypt",
    params.N,
    params.r,
    params.p,
    salt.toString("base64"),
    key.toString("base64"),
  ].join("$");
}

/** Constant-time comparison; a malformed hash never matches. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parsePasswordHash(hash);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

/** Whether a (valid) hash was made with less work than `target` asks for. */
export function needsRehash(hash: string, target: ScryptParams = DEFAULT_PARAMS): boolean {
  const parsed = parsePasswordHash(hash);
  if (!parsed) return false;
  const { N, r, p } = parsed.params;
  return N * r * p < target.N * target.r * target.p || N < target.N || r < target.r;
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * Spends the same time as a real check, for user names that do not exist, so the response
 * time does not tell a guesser which names are real.
 */
export async function burnPasswordCheck(
  password: string,
  params: ScryptParams = DEFAULT_PARAMS,
): Promise<false> {
  const key = `${params.N}$${params.r}$${params.p}`;
  let dummy = dummyHashes.get(key);
  if (!dummy) {
    dummy = hashPassword(randomBytes(16).toString("base64"), params);
    dummyHashes.set(key, dummy);
  }
  await verifyPassword(password, await dummy);
  return false;
}

/** A password for generated accounts: 24 characters from an unambiguous alphabet. */
export function generatePassword(length = 24): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}
