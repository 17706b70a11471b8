/**
 * The stored form of a password hash, `scrypt$N$r$p$salt$hash` (salt and hash base64): what
 * the config schema accepts. Pure; hashing and checking live in server/auth/password.ts.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const HASH_RE =
  /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export function parsePasswordHash(hash: string): ParsedHash | null {
  const m = HASH_RE.exec(hash);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N must be a power of two; the bounds keep a hostile config from pinning the CPU or RAM.
  if (N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16)
    return null;
  const salt = Buffer.from(m[4] ?? "", "base64");
  const key = Buffer.from(m[5] ?? "", "base64");
  if (salt.length < 8 || key.length < 16) return null;
  return { params: { N, r, p }, salt, key };
}

export function isPasswordHash(hash: string): boolean {
  return parsePasswordHash(hash) !== null;
}
