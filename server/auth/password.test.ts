import { describe, expect, it } from "vitest";
import {
  burnPasswordCheck,
  generatePassword,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password";
import { parsePasswordHash } from "@/server/config/password-hash";

const FAST = { N: 1024, r: 8, p: 1 };

describe("password hashes", () => {
  it("stores scrypt$N$r$p$salt$hash and verifies only the right password", async () => {
    const hash = await hashPassword("correct horse battery", FAST);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery", hash)).toBe(true);
    expect(await verifyPassword("correct horse batter", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hashPassword("same", FAST)).not.toBe(await hashPassword("same", FAST));
  });

  it("hashes at OWASP's scrypt minimum by default (N=2^17), within Node's memory limit", async () => {
    const hash = await hashPassword("x");
    expect(parsePasswordHash(hash)?.params).toEqual({ N: 131072, r: 8, p: 1 });
    expect(await verifyPassword("x", hash)).toBe(true);
  }, 30_000);

  it("asks for a re-hash of weaker hashes only", () => {
    // needsRehash reads the parameters only: well-formed stored strings, no hashing needed.
    const stored = (N: number, r: number, p: number) =>
      `scrypt$${N}$${r}$${p}$${Buffer.alloc(16, 1).toString("base64")}$${Buffer.alloc(32, 2).toString("base64")}`;
    const old = stored(32768, 8, 1);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(stored(131072, 4, 2))).toBe(true);
    expect(needsRehash(old, { N: 32768, r: 8, p: 1 })).toBe(false);
    expect(needsRehash(stored(262144, 8, 1))).toBe(false);
    expect(needsRehash("not a hash")).toBe(false);
  });

  it("never matches malformed or hostile hashes", async () => {
    for (const bad of [
      "",
      "plain",
      "scrypt$1024$8$1$c2FsdA==",
      "scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==", // N not a power of two
      "scrypt$4294967296$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==", // absurd memory
      "bcrypt$2b$10$abcdefghijklmnopqrstuv",
    ]) {
      expect(parsePasswordHash(bad)).toBeNull();
      expect(await verifyPassword("x", bad)).toBe(false);
    }
  });

  it("spends a real check's time on unknown users", async () => {
    expect(await burnPasswordCheck("whatever")).toBe(false);
  }, 30_000);

  it("generates unambiguous passwords", () => {
    const p = generatePassword();
    expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{24}$/);
    expect(generatePassword()).not.toBe(p);
  });
});
