import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, configFromText, configPath, loadConfig } from "./index";

const FP = "SHA256:gLY5K9zA0sGE2abP1lW7Q5/Rxqqts632k+PT2YRSYZY";
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lvs-config-"));
  writeFileSync(join(dir, "id_ed25519"), "not really a key\n");
  writeFileSync(join(dir, "known_hosts"), "");
});

afterEach(() => {
  delete process.env.LVS_CONSOLE_CONFIG;
  delete process.env.TEST_KEY_PASSPHRASE;
});

function write(text: string, name = "lvs-console.yaml"): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(text: string): ConfigError {
  try {
    configFromText(text, "lvs-console.yaml", dir);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const GOOD = `
pollIntervalMs: 1500
dataDir: data
clusters:
  - id: lab
    name: Lab director pair
    directors:
      - id: lab1
        host: 127.0.0.1
        port: 2222
        privateKeyPath: id_ed25519
        hostKeyFingerprint: "${FP}"
      - id: lab2
        host: director2.example.net
        user: lvs
        agent: true
        knownHostsPath: known_hosts
        sudo: true
        jumpHost: { host: bastion.example.net, privateKeyPath: id_ed25519, passphraseEnv: TEST_KEY_PASSPHRASE, hostKeyFingerprint: "${FP}" }
  - id: edge
    directors:
      - id: edge1
        host: "2001:db8::1"
        privateKeyPath: ./id_ed25519
`;

describe("loadConfig", () => {
  it("reads a good file, fills defaults and makes paths absolute relative to the file", () => {
    process.env.TEST_KEY_PASSPHRASE = "secret";
    const config = loadConfig(write(GOOD));
    expect(config.pollIntervalMs).toBe(1500);
    expect(config.dataDir).toBe(join(dir, "data"));
    expect(config.clusters.map((c) => [c.id, c.name])).toEqual([
      ["lab", "Lab director pair"],
      ["edge", "edge"],
    ]);
    const [lab1, lab2] = config.clusters[0]?.directors ?? [];
    expect(lab1).toMatchObject({
      id: "lab1",
      clusterId: "lab",
      host: "127.0.0.1",
      port: 2222,
      user: "root",
      sudo: false,
      privateKeyPath: join(dir, "id_ed25519"),
      hostKeyFingerprint: FP,
    });
    expect(lab2).toMatchObject({
      user: "lvs",
      agent: true,
      port: 22,
      sudo: true,
      knownHostsPath: join(dir, "known_hosts"),
    });
    expect(lab2?.jumpHost).toMatchObject({
      host: "bastion.example.net",
      port: 22,
      user: "root",
      privateKeyPath: join(dir, "id_ed25519"),
    });
    expect(config.clusters[1]?.directors[0]?.privateKeyPath).toBe(join(dir, "id_ed25519"));
    expect(config.users).toEqual([]);
  });

  it("defaults the poll interval and data directory", () => {
    const config = configFromText(
      "clusters: [{ id: a, directors: [{ id: a1, host: h, privateKeyPath: id_ed25519 }] }]",
      "x.yaml",
      dir,
    );
    expect(config.pollIntervalMs).toBe(2000);
    expect(config.dataDir).toBe(join(dir, ".data"));
  });

  it("reads LVS_CONSOLE_CONFIG when no path is given", () => {
    const path = write(
      "clusters: [{ id: a, directors: [{ id: a1, host: h, privateKeyPath: id_ed25519 }] }]",
      "other.yaml",
    );
    process.env.LVS_CONSOLE_CONFIG = path;
    expect(configPath()).toBe(path);
    expect(loadConfig().file).toBe(path);
  });

  it("names the file when it does not exist", () => {
    expect(() => loadConfig(join(dir, "missing.yaml"))).toThrow(/missing\.yaml: no such file/);
  });
});

describe("a bad file names the file, the field and the problem", () => {
  const director = (extra: string) => `
clusters:
  - id: lab
    directors:
      - id: lab1
        host: 127.0.0.1
        privateKeyPath: id_ed25519
      - id: lab2
        host: 127.0.0.2
${extra}`;

  it.each([
    [
      "a port out of range",
      director("        privateKeyPath: id_ed25519\n        port: 70000"),
      "lvs-console.yaml: clusters[0].directors[1].port: a port is a whole number from 1 to 65535",
    ],
    [
      "a port that is text",
      director("        privateKeyPath: id_ed25519\n        port: ssh"),
      "lvs-console.yaml: clusters[0].directors[1].port: a port is a whole number from 1 to 65535",
    ],
    [
      "no way to log in",
      director(""),
      "lvs-console.yaml: clusters[0].directors[1].privateKeyPath: give privateKeyPath (a private key file) or agent: true",
    ],
    [
      "two ways to log in",
      director("        privateKeyPath: id_ed25519\n        agent: true"),
      "clusters[0].directors[1].agent: give either privateKeyPath or agent: true, not both",
    ],
    [
      "a bad fingerprint",
      director('        privateKeyPath: id_ed25519\n        hostKeyFingerprint: "MD5:aa:bb"'),
      'clusters[0].directors[1].hostKeyFingerprint: a host key fingerprint looks like "SHA256:"',
    ],
    [
      "pinned and known_hosts both",
      director(
        `        privateKeyPath: id_ed25519\n        hostKeyFingerprint: "${FP}"\n        knownHostsPath: known_hosts`,
      ),
      "clusters[0].directors[1].knownHostsPath: give either hostKeyFingerprint or knownHostsPath, not both",
    ],
    [
      "a misspelt field",
      director("        privateKeyPath: id_ed25519\n        hostkeyFingerprint: x"),
      "clusters[0].directors[1].hostkeyFingerprint: unknown field",
    ],
    [
      "a duplicate director id",
      director("        privateKeyPath: id_ed25519").replace("id: lab2", "id: lab1"),
      'clusters[0].directors[1].id: director id "lab1" is already used at clusters[0].directors[0]',
    ],
    [
      "a bad cluster id",
      director("        privateKeyPath: id_ed25519").replace("id: lab\n", "id: Lab_1\n"),
      "clusters[0].id: a cluster id is text of a-z, 0-9",
    ],
    [
      "a missing host",
      director("        privateKeyPath: id_ed25519").replace("        host: 127.0.0.2\n", ""),
      "clusters[0].directors[1].host: missing: a host is a DNS name",
    ],
    [
      "sudo that is not a boolean",
      director("        privateKeyPath: id_ed25519\n        sudo: yes please"),
      "clusters[0].directors[1].sudo: sudo is true or false",
    ],
    [
      "a key file that does not exist",
      director("        privateKeyPath: nope/id_rsa"),
      "clusters[0].directors[1].privateKeyPath: cannot read ",
    ],
    [
      "an unset passphrase variable",
      director("        privateKeyPath: id_ed25519\n        passphraseEnv: TEST_KEY_PASSPHRASE"),
      "clusters[0].directors[1].passphraseEnv: the environment variable TEST_KEY_PASSPHRASE is not set",
    ],
    [
      "a jump host without a host key",
      director("        privateKeyPath: id_ed25519\n        jumpHost: { host: j, agent: true }"),
      "clusters[0].directors[1].jumpHost.hostKeyFingerprint: a jump host needs hostKeyFingerprint or knownHostsPath",
    ],
    [
      "a poll interval that is too short",
      `pollIntervalMs: 10\n${director("        privateKeyPath: id_ed25519")}`,
      "lvs-console.yaml: pollIntervalMs: pollIntervalMs is a whole number of milliseconds from 250 to 600000",
    ],
  ])("%s", (_what, text, expected) => {
    const error = errorOf(text);
    expect(error.message).toContain(expected);
    expect(error.message.startsWith("lvs-console.yaml: ")).toBe(true);
  });

  it("reports every problem, one line each", () => {
    const error = errorOf(director("        port: 0"));
    expect(error.issues.map((i) => i.path)).toEqual([
      "clusters[0].directors[1].port",
      "clusters[0].directors[1].privateKeyPath",
    ]);
    expect(error.message.split("\n")).toHaveLength(2);
  });

  it("names the line of a YAML syntax error", () => {
    expect(errorOf("clusters:\n  - id: lab\n   directors: [").message).toMatch(
      /^lvs-console\.yaml: line \d+, column \d+: /,
    );
  });

  it("rejects a file without clusters", () => {
    expect(errorOf("pollIntervalMs: 1000\n").message).toBe(
      "lvs-console.yaml: clusters: missing: clusters is a list of clusters",
    );
    expect(errorOf("").message).toContain(
      "lvs-console.yaml: the file is a YAML mapping with clusters",
    );
  });
});
