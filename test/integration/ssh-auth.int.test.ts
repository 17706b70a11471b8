/**
 * The SSH pool's other ways to log in, against the real lab director (read-only commands
 * only: the lab is shared): ssh-agent, a jump host, and a passphrase-protected key.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig, JumpHostConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { readLabDirector, type LabDirector } from "../../lab/harness";
import { directorConfigOf, labName } from "./lab-director";

const PASSPHRASE_ENV = "LVS_TEST_KEY_PASSPHRASE";
const LISTING = "TCP  203.0.113.10:80 rr persistent 300";

let lab: LabDirector;
let director: DirectorConfig;
let dir: string;
let agentPid: number | null = null;
let agentSock: string;
const savedAuthSock = process.env.SSH_AUTH_SOCK;
const pools: SshPool[] = [];

function pool(): SshPool {
  const p = createSshPool({ trust: { get: () => null } });
  pools.push(p);
  return p;
}

async function errorOf(promise: Promise<unknown>): Promise<ConsoleError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ConsoleError) return e;
    throw e;
  }
  throw new Error("expected a ConsoleError");
}

/** What sshd logged about one connection, found by its source port (LogLevel VERBOSE). */
function sshdLogFor(p: SshPool, sourcePort: string): Promise<string> {
  return p
    .exec(director, ["grep", "-F", `port ${sourcePort} `, "/var/log/sshd.log"])
    .then((r) => r.stdout);
}

beforeAll(async () => {
  lab = await readLabDirector(labName());
  director = directorConfigOf(lab, { id: "auth-direct" });
  dir = mkdtempSync(join(tmpdir(), "lvs-ssh-auth-"));
  agentSock = join(dir, "agent.sock");
  const started = execFileSync("ssh-agent", ["-s", "-a", agentSock], { encoding: "utf8" });
  const pid = /SSH_AGENT_PID=(\d+)/.exec(started)?.[1];
  if (!pid) throw new Error(`ssh-agent printed no pid: ${started}`);
  agentPid = Number(pid);
  execFileSync("ssh-add", ["-q", lab.privateKeyPath], {
    env: { ...process.env, SSH_AUTH_SOCK: agentSock },
    stdio: "ignore",
  });
});

afterAll(() => {
  for (const p of pools) p.closeAll();
  if (agentPid !== null) process.kill(agentPid, "SIGTERM");
  if (savedAuthSock === undefined) delete process.env.SSH_AUTH_SOCK;
  else process.env.SSH_AUTH_SOCK = savedAuthSock;
  delete process.env[PASSPHRASE_ENV];
  rmSync(dir, { recursive: true, force: true });
});

describe("ssh-agent", () => {
  const viaAgent = () =>
    directorConfigOf(lab, { id: "auth-agent", privateKeyPath: undefined, agent: true });

  it("logs in with the agent's key from SSH_AUTH_SOCK and runs ipvsadm", async () => {
    process.env.SSH_AUTH_SOCK = agentSock;
    const r = await pool().execChecked(viaAgent(), ["ipvsadm", "-Ln"]);
    expect(r.stdout).toContain(LISTING);
  });

  it("says so when SSH_AUTH_SOCK is not set", async () => {
    delete process.env.SSH_AUTH_SOCK;
    const e = await errorOf(pool().exec(viaAgent(), ["true"]));
    expect(e.code).toBe("AUTH_FAILED");
    expect(e.message).toMatch(/SSH_AUTH_SOCK is not set/);
  });

  it("names an agent that does not hold the key AUTH_FAILED", async () => {
    const empty = join(dir, "empty-agent.sock");
    const started = execFileSync("ssh-agent", ["-s", "-a", empty], { encoding: "utf8" });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started)?.[1]);
    try {
      process.env.SSH_AUTH_SOCK = empty;
      const e = await errorOf(pool().exec(viaAgent(), ["true"]));
      expect(e.code).toBe("AUTH_FAILED");
      expect(e.message).toMatch(/refused the login/);
    } finally {
      process.kill(pid, "SIGTERM");
    }
  });
});

describe("jump host", () => {
  // The lab is its own jump host: 127.0.0.1:22 as seen from inside the guest is the same sshd.
  const jumpHost = (overrides: Partial<JumpHostConfig> = {}): JumpHostConfig => ({
    host: lab.host,
    port: lab.port,
    user: lab.user,
    privateKeyPath: lab.privateKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
    ...overrides,
  });
  const behindJump = (overrides: Partial<DirectorConfig> = {}) =>
    directorConfigOf(lab, {
      id: "auth-jump",
      host: "127.0.0.1",
      port: 22,
      jumpHost: jumpHost(),
      ...overrides,
    });

  it("reaches the director through the jump host: sshd sees the connection come from 127.0.0.1", async () => {
    const p = pool();
    const r = await p.execChecked(behindJump(), [
      "sh",
      "-c",
      'echo "$SSH_CONNECTION"; ipvsadm -Ln',
    ]);
    const [connection = "", ...listing] = r.stdout.split("\n");
    const [from, sourcePort, to, toPort] = connection.split(" ");
    expect([from, to, toPort]).toEqual(["127.0.0.1", "127.0.0.1", "22"]);
    expect(listing.join("\n")).toContain(LISTING);
    const log = await sshdLogFor(pool(), sourcePort ?? "?");
    expect(log).toContain(`Connection from 127.0.0.1 port ${sourcePort} on 127.0.0.1 port 22`);
    expect(log).toMatch(/Accepted publickey for root from 127\.0\.0\.1 port \d+/);
    expect(p.stats("auth-jump")).toMatchObject({ connects: 1, state: "ready" });
  });

  it("logs in to the jump host through ssh-agent", async () => {
    process.env.SSH_AUTH_SOCK = agentSock;
    const d = behindJump({
      id: "auth-jump-agent",
      jumpHost: jumpHost({ privateKeyPath: undefined, agent: true }),
    });
    expect((await pool().execChecked(d, ["ipvsadm", "-Ln"])).stdout).toContain(LISTING);
  });

  it("refuses a jump host whose host key differs from the pinned one, naming the jump host", async () => {
    const wrong = "SHA256:" + "A".repeat(43);
    const e = await errorOf(
      pool().exec(
        behindJump({ id: "auth-jump-key", jumpHost: jumpHost({ hostKeyFingerprint: wrong }) }),
        ["true"],
      ),
    );
    expect(e.code).toBe("HOST_KEY_CHANGED");
    expect(e.details).toMatchObject({ role: "jumpHost", actual: lab.hostKeyFingerprint });
  });

  it("names a director the jump host cannot reach UNREACHABLE", async () => {
    const e = await errorOf(pool().exec(behindJump({ id: "auth-jump-closed", port: 1 }), ["true"]));
    expect(e.code).toBe("UNREACHABLE");
    expect(e.message).toMatch(/jump host 127\.0\.0\.1 cannot reach 127\.0\.0\.1:1/);
  });
});

describe("passphrase-protected key", () => {
  let keyPath: string;
  const withKey = (id: string, overrides: Partial<DirectorConfig> = {}) =>
    directorConfigOf(lab, {
      id,
      privateKeyPath: keyPath,
      passphraseEnv: PASSPHRASE_ENV,
      ...overrides,
    });

  beforeAll(() => {
    keyPath = join(dir, "id_ed25519_protected");
    copyFileSync(lab.privateKeyPath, keyPath);
    chmodSync(keyPath, 0o600);
    execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", "correct horse", "-f", keyPath], {
      stdio: "ignore",
    });
  });

  it("logs in with the passphrase from the environment variable named by passphraseEnv", async () => {
    process.env[PASSPHRASE_ENV] = "correct horse";
    expect((await pool().execChecked(withKey("auth-pass"), ["ipvsadm", "-Ln"])).stdout).toContain(
      LISTING,
    );
  });

  it("names a wrong passphrase AUTH_FAILED, saying which key and which variable", async () => {
    process.env[PASSPHRASE_ENV] = "wrong";
    const e = await errorOf(pool().exec(withKey("auth-pass-wrong"), ["true"]));
    expect(e.code).toBe("AUTH_FAILED");
    expect(e.message).toBe(
      `the passphrase in ${PASSPHRASE_ENV} does not decrypt the private key ${keyPath} (for root@${lab.host}:${lab.port})`,
    );
  });

  it("names a missing passphrase AUTH_FAILED, saying where it should come from", async () => {
    delete process.env[PASSPHRASE_ENV];
    const unset = await errorOf(pool().exec(withKey("auth-pass-unset"), ["true"]));
    expect(unset.code).toBe("AUTH_FAILED");
    expect(unset.message).toBe(
      `the private key ${keyPath} (for root@${lab.host}:${lab.port}) is encrypted, and the environment variable ${PASSPHRASE_ENV} holding its passphrase is not set`,
    );
    const unconfigured = await errorOf(
      pool().exec(withKey("auth-pass-none", { passphraseEnv: undefined }), ["true"]),
    );
    expect(unconfigured.code).toBe("AUTH_FAILED");
    expect(unconfigured.message).toBe(
      `the private key ${keyPath} (for root@${lab.host}:${lab.port}) is encrypted: name the environment variable holding its passphrase in passphraseEnv`,
    );
  });
});
