import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf, keyTypeOf } from "./fingerprint";
import { checkKnownHosts, hostMatches, knownKeyTypes, parseKnownHosts } from "./known-hosts";

let dir: string;
const keys: Record<string, { blob: Buffer; line: string; sshKeygen: string }> = {};

function keygen(type: string, name: string): void {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", path, "-C", name]);
  const line = readFileSync(`${path}.pub`, "utf8").trim();
  const blob = Buffer.from(line.split(" ")[1] ?? "", "base64");
  const printed = execFileSync("ssh-keygen", ["-lf", `${path}.pub`], { encoding: "utf8" });
  keys[name] = { blob, line, sshKeygen: printed.split(" ")[1] ?? "" };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lvs-keys-"));
  keygen("ed25519", "a");
  keygen("ed25519", "b");
  keygen("rsa", "rsa");
  keygen("ecdsa", "ecdsa");
});

function key(name: string) {
  const k = keys[name];
  if (!k) throw new Error(`no key ${name}`);
  return k;
}
const pub = (name: string) => key(name).line.split(" ").slice(0, 2).join(" ");

describe("fingerprintOf", () => {
  it.each(["a", "rsa", "ecdsa"])("equals ssh-keygen -lf for a %s key", (name) => {
    expect(key(name).sshKeygen).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprintOf(key(name).blob)).toBe(key(name).sshKeygen);
  });

  it("reads the key type from the key itself", () => {
    expect(keyTypeOf(key("a").blob)).toBe("ssh-ed25519");
    expect(keyTypeOf(key("rsa").blob)).toBe("ssh-rsa");
    expect(keyTypeOf(key("ecdsa").blob)).toBe("ecdsa-sha2-nistp256");
    expect(keyTypeOf(Buffer.alloc(2))).toBe("unknown");
  });
});

describe("known_hosts", () => {
  it("matches plain names on port 22 and [host]:port otherwise", () => {
    const entries = parseKnownHosts(
      `# comment\n\ndirector1,10.0.0.1 ${pub("a")}\n[127.0.0.1]:2222 ${pub("b")}\n`,
    );
    expect(entries).toHaveLength(2);
    expect(checkKnownHosts(entries, "director1", 22, key("a").blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "10.0.0.1", 22, key("a").blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "director1", 2200, key("a").blob).kind).toBe("unknown");
    expect(checkKnownHosts(entries, "127.0.0.1", 2222, key("b").blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "127.0.0.1", 22, key("b").blob).kind).toBe("unknown");
  });

  it("reports a different key for a known host as a mismatch, with the expected fingerprints", () => {
    const entries = parseKnownHosts(`director1 ${pub("a")}\n`);
    expect(checkKnownHosts(entries, "director1", 22, key("b").blob)).toEqual({
      kind: "mismatch",
      expected: [key("a").sshKeygen],
    });
  });

  it("matches entries hashed by ssh-keygen -H", () => {
    const file = join(dir, "known_hosts");
    writeFileSync(file, `director1 ${pub("a")}\n[127.0.0.1]:2222 ${pub("b")}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("director1");
    const entries = parseKnownHosts(text);
    expect(entries.every((e) => e.hosts.startsWith("|1|"))).toBe(true);
    expect(checkKnownHosts(entries, "director1", 22, key("a").blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "127.0.0.1", 2222, key("b").blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "127.0.0.1", 2222, key("a").blob).kind).toBe("mismatch");
    expect(checkKnownHosts(entries, "director2", 22, key("a").blob).kind).toBe("unknown");
  });

  it("honours wildcards and negation", () => {
    expect(hostMatches("*.example.net,!bad.example.net", "lb1.example.net", 22)).toBe(true);
    expect(hostMatches("*.example.net,!bad.example.net", "bad.example.net", 22)).toBe(false);
    expect(hostMatches("lb?.example.net", "lb1.example.net", 22)).toBe(true);
    expect(hostMatches("lb?.example.net", "lb10.example.net", 22)).toBe(false);
    expect(hostMatches("[10.0.0.*]:2222", "10.0.0.7", 2222)).toBe(true);
    expect(hostMatches("10.0.0.1", "10.0.0.10", 22)).toBe(false);
  });

  it("refuses a revoked key and skips CA lines and corrupt lines", () => {
    const entries = parseKnownHosts(
      [
        `@revoked * ${pub("b")}`,
        `@cert-authority *.example.net ${pub("a")}`,
        `director1 ssh-rsa ${key("a").line.split(" ")[1] ?? ""}`,
        `director1 ${pub("rsa")}`,
        "director1 ssh-ed25519 not-base64!",
      ].join("\n"),
    );
    expect(entries.map((e) => e.marker)).toEqual(["revoked", "cert-authority", null]);
    expect(checkKnownHosts(entries, "director1", 22, key("b").blob).kind).toBe("revoked");
    expect(checkKnownHosts(entries, "director1", 22, key("rsa").blob).kind).toBe("match");
    expect(knownKeyTypes(entries, "director1", 22)).toEqual(["ssh-rsa"]);
  });
});
