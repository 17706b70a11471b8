import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf, keyTypeOf } from "./fingerprint";
import { blobOf, NOW, pubLine } from "./host-certs.test-util";
import {
  checkKnownHosts,
  GLOBAL_KNOWN_HOSTS_FILES,
  globalKnownHostsFiles,
  hostMatches,
  knownKeyTypes,
  knowsHostKey,
  loadKnownHosts,
  parseKnownHosts,
} from "./known-hosts";

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

describe("@cert-authority", () => {
  const CERT = "ed25519-host-by-ed25519-ca-cert.pub";
  const caLine = (hosts: string, ca = "ca_ed25519.pub") =>
    `@cert-authority ${hosts} ${pubLine(ca)}`;

  it("accepts a host certificate signed by a CA trusted for the host", () => {
    const entries = parseKnownHosts(`${caLine("*.lab.example,10.10.0.2")}\n`);
    const verdict = checkKnownHosts(entries, "director-a.lab.example", 22, blobOf(CERT), NOW);
    expect(verdict).toMatchObject({ kind: "match", entry: { marker: "cert-authority", line: 1 } });
    expect(checkKnownHosts(entries, "10.10.0.2", 22, blobOf(CERT), NOW).kind).toBe("match");
    // The plain host key is not covered by the CA line.
    expect(
      checkKnownHosts(entries, "director-a.lab.example", 22, blobOf("host_ed25519.pub")).kind,
    ).toBe("unknown");
    expect(knowsHostKey(entries, "director-a.lab.example", 22)).toBe(false);
  });

  it("matches the CA line's host pattern against [host]:port off port 22", () => {
    const entries = parseKnownHosts(`${caLine("[director-a.lab.example]:2222")}\n`);
    expect(checkKnownHosts(entries, "director-a.lab.example", 2222, blobOf(CERT), NOW).kind).toBe(
      "match",
    );
    expect(checkKnownHosts(entries, "director-a.lab.example", 22, blobOf(CERT), NOW).kind).toBe(
      "unknown",
    );
  });

  it("refuses a certificate the trusted CA signed for another host, or that expired", () => {
    const entries = parseKnownHosts(`${caLine("*.lab.example")}\n`);
    expect(checkKnownHosts(entries, "director-b.lab.example", 22, blobOf(CERT), NOW)).toMatchObject(
      {
        kind: "bad-certificate",
        reason: expect.stringContaining("not director-b.lab.example") as string,
      },
    );
    expect(
      checkKnownHosts(entries, "director-a.lab.example", 22, blobOf("expired-cert.pub"), NOW),
    ).toMatchObject({ kind: "bad-certificate", reason: "it has expired" });
    expect(
      checkKnownHosts(entries, "director-a.lab.example", 22, blobOf("user-cert.pub"), NOW),
    ).toMatchObject({ kind: "bad-certificate", reason: "it is not a host certificate" });
  });

  it("checks a certificate from an unknown CA as its plain key, as ssh does", () => {
    const plain = `director-a.lab.example ${pubLine("host_ed25519.pub")}`;
    const otherCa = caLine("*.lab.example", "ca_ecdsa.pub");
    expect(
      checkKnownHosts(
        parseKnownHosts(`${otherCa}\n${plain}\n`),
        "director-a.lab.example",
        22,
        blobOf(CERT),
        NOW,
      ).kind,
    ).toBe("match");
    expect(
      checkKnownHosts(
        parseKnownHosts(`${otherCa}\n`),
        "director-a.lab.example",
        22,
        blobOf(CERT),
        NOW,
      ).kind,
    ).toBe("unknown");
  });

  it("refuses a certificate whose CA or host key is @revoked", () => {
    const ca = caLine("*.lab.example");
    for (const revoked of ["ca_ed25519.pub", "host_ed25519.pub"]) {
      const entries = parseKnownHosts(`${ca}\n@revoked * ${pubLine(revoked)}\n`);
      expect(checkKnownHosts(entries, "director-a.lab.example", 22, blobOf(CERT), NOW).kind).toBe(
        "revoked",
      );
    }
  });

  it("matches hashed host names on CA lines", () => {
    // ssh-keygen -H leaves marker lines alone, so hash the name on a plain line and reuse it.
    const file = join(dir, "known_hosts_ca");
    writeFileSync(file, `director-a.lab.example ${pub("a")}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const hashed = readFileSync(file, "utf8").split(" ")[0] ?? "";
    expect(hashed).toMatch(/^\|1\|/);
    const entries = parseKnownHosts(`${caLine(hashed)}\n`);
    expect(checkKnownHosts(entries, "director-a.lab.example", 22, blobOf(CERT), NOW).kind).toBe(
      "match",
    );
    expect(checkKnownHosts(entries, "director-b.lab.example", 22, blobOf(CERT), NOW).kind).toBe(
      "unknown",
    );
  });
});

describe("the system-wide known_hosts files", () => {
  it("reads the configured file, then the global ones, skipping missing global files", () => {
    const user = join(dir, "user_known_hosts");
    const global = join(dir, "ssh_known_hosts");
    writeFileSync(user, `director1 ${pub("a")}\n`);
    writeFileSync(global, `director2 ${pub("b")}\n`);
    const entries = loadKnownHosts(user, { globalFiles: [global, join(dir, "missing")] });
    expect(entries.map((e) => [e.file, e.hosts])).toEqual([
      [user, "director1"],
      [global, "director2"],
    ]);
    expect(checkKnownHosts(entries, "director2", 22, key("b").blob).kind).toBe("match");
    expect(checkKnownHosts(entries, "director2", 22, key("a").blob).kind).toBe("mismatch");
    // Without a configured file the global ones still count, as for ssh.
    expect(loadKnownHosts(undefined, { globalFiles: [global] }).map((e) => e.hosts)).toEqual([
      "director2",
    ]);
    // A configured file that cannot be read is an error, not an empty list.
    expect(() => loadKnownHosts(join(dir, "missing"), { globalFiles: [] })).toThrow();
  });

  it("defaults to OpenSSH's global files, overridable by LVS_CONSOLE_GLOBAL_KNOWN_HOSTS", () => {
    expect(GLOBAL_KNOWN_HOSTS_FILES).toEqual([
      "/etc/ssh/ssh_known_hosts",
      "/etc/ssh/ssh_known_hosts2",
    ]);
    expect(globalKnownHostsFiles({})).toBe(GLOBAL_KNOWN_HOSTS_FILES);
    expect(globalKnownHostsFiles({ LVS_CONSOLE_GLOBAL_KNOWN_HOSTS: "" })).toEqual([]);
    expect(globalKnownHostsFiles({ LVS_CONSOLE_GLOBAL_KNOWN_HOSTS: "/a:/b" })).toEqual([
      "/a",
      "/b",
    ]);
  });

  it("reads /etc/ssh/ssh_known_hosts through the injected reader by default", () => {
    const read = (path: string) => {
      if (path === "/etc/ssh/ssh_known_hosts") return `director9 ${pub("a")}\n`;
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    };
    const entries = loadKnownHosts(undefined, { read, globalFiles: GLOBAL_KNOWN_HOSTS_FILES });
    expect(checkKnownHosts(entries, "director9", 22, key("a").blob)).toMatchObject({
      kind: "match",
      entry: { file: "/etc/ssh/ssh_known_hosts" },
    });
  });
});
