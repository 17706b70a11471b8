/**
 * The SSH pool's other ways to log in, against the real lab director (read-only commands
 * only: the lab is shared): ssh-agent, a jump host, and a passphrase-protected key.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "@/server/log";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig, JumpHostConfig } from "@/server/config";
import type { ConsoleError } from "@/server/errors";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { readLabDirector, type LabDirector } from "../../lab/harness";
import { consoleErrorOf } from "./console-harness";
import { directorConfigOf, labAsJumpHost, labName } from "./lab-director";

const PASSPHRASE_ENV = "LVS_TEST_KEY_PASSPHRASE";
const LISTING = "TCP  203.0.113.10:80 rr persistent 300";

let lab: LabDirector;
/** The one AUTH_FAILED message for a login as root to the lab director. */
let publicMessage: string;
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

/** What sshd logged about one connection, found by its source port (LogLevel VERBOSE). */
function sshdLogFor(p: SshPool, sourcePort: string): Promise<string> {
  return p
    .exec(director, ["grep", "-F", `port ${sourcePort} `, "/var/log/sshd.log"])
    .then((r) => r.stdout);
}

beforeAll(async () => {
  lab = await readLabDirector(labName());
  director = directorConfigOf(lab, { id: "auth-direct" });
  publicMessage = `authentication as root@${lab.host}:${lab.port} failed (publickey)`;
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

  it("says so when SSH_AUTH_SOCK is not set (to admins)", async () => {
    delete process.env.SSH_AUTH_SOCK;
    const e = await consoleErrorOf(pool().exec(viaAgent(), ["true"]));
    expect(e.code).toBe("AUTH_FAILED");
    expect(e.message).toBe(publicMessage);
    expect(e.details.reason).toBe("no-agent");
    expect(e.adminDetail).toMatch(/SSH_AUTH_SOCK is not set/);
  });

  it("names an agent that does not hold the key AUTH_FAILED", async () => {
    const empty = join(dir, "empty-agent.sock");
    const started = execFileSync("ssh-agent", ["-s", "-a", empty], { encoding: "utf8" });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started)?.[1]);
    try {
      process.env.SSH_AUTH_SOCK = empty;
      const e = await consoleErrorOf(pool().exec(viaAgent(), ["true"]));
      expect(e.code).toBe("AUTH_FAILED");
      expect(e.message).toBe(publicMessage);
      expect(e.details.reason).toBe("key-rejected");
      expect(e.adminDetail).toMatch(/did not accept the keys of ssh-agent/);
    } finally {
      process.kill(pid, "SIGTERM");
    }
  });
});

describe("jump host", () => {
  // The lab is its own jump host: 127.0.0.1:22 as seen from inside the guest is the same sshd.
  const jumpHost = (overrides: Partial<JumpHostConfig> = {}) => labAsJumpHost(lab, overrides);
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
    const e = await consoleErrorOf(
      pool().exec(
        behindJump({ id: "auth-jump-key", jumpHost: jumpHost({ hostKeyFingerprint: wrong }) }),
        ["true"],
      ),
    );
    expect(e.code).toBe("HOST_KEY_CHANGED");
    expect(e.details).toMatchObject({ role: "jumpHost", actual: lab.hostKeyFingerprint });
  });

  it("names a director the jump host cannot reach UNREACHABLE", async () => {
    const e = await consoleErrorOf(
      pool().exec(behindJump({ id: "auth-jump-closed", port: 1 }), ["true"]),
    );
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

  /** What every viewer gets (SSE pushes, the audit log): neither the key file nor the variable. */
  function expectRedacted(e: ConsoleError): void {
    expect(e.code).toBe("AUTH_FAILED");
    expect(e.message).toBe(publicMessage);
    const shown = JSON.stringify(e.toJSON());
    expect(shown).not.toContain(keyPath);
    expect(shown).not.toContain(PASSPHRASE_ENV);
    expect(e.details).toEqual({
      directorId: e.details.directorId,
      role: "director",
      host: lab.host,
      port: lab.port,
      user: "root",
      method: "publickey",
      reason: "key-unusable",
    });
  }

  it("names a wrong passphrase AUTH_FAILED; which key and which variable only to admins", async () => {
    process.env[PASSPHRASE_ENV] = "not-the-passphrase-42";
    // The server log (pino, server/log.ts) captured as its JSON lines.
    const written: string[] = [];
    const logs = globalThis as typeof globalThis & { __lvsConsoleLog?: Logger };
    const before = logs.__lvsConsoleLog;
    logs.__lvsConsoleLog = createLogger({
      json: true,
      destination: { write: (line) => void written.push(line) },
    });
    try {
      const p = pool();
      const e = await consoleErrorOf(p.exec(withKey("auth-pass-wrong"), ["true"]));
      expectRedacted(e);
      const why = `the passphrase in ${PASSPHRASE_ENV} does not decrypt the private key ${keyPath} (for root@${lab.host}:${lab.port})`;
      expect(e.adminDetail).toBe(why);
      // The server log gets the why once (not at every retry), never the passphrase itself.
      await consoleErrorOf(p.exec(withKey("auth-pass-wrong"), ["true"], { timeoutMs: 5000 }));
      const failures = written
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.event === "ssh.auth_failed");
      expect(failures).toMatchObject([
        { director: "auth-pass-wrong", detail: why, msg: publicMessage },
      ]);
      expect(written.join("\n")).not.toContain("not-the-passphrase-42");
    } finally {
      logs.__lvsConsoleLog = before;
    }
  });

  it("names a missing passphrase AUTH_FAILED; where it should come from only to admins", async () => {
    delete process.env[PASSPHRASE_ENV];
    const unset = await consoleErrorOf(pool().exec(withKey("auth-pass-unset"), ["true"]));
    expectRedacted(unset);
    expect(unset.adminDetail).toBe(
      `the private key ${keyPath} (for root@${lab.host}:${lab.port}) is encrypted, and the environment variable ${PASSPHRASE_ENV} holding its passphrase is not set`,
    );
    const unconfigured = await consoleErrorOf(
      pool().exec(withKey("auth-pass-none", { passphraseEnv: undefined }), ["true"]),
    );
    expectRedacted(unconfigured);
    expect(unconfigured.adminDetail).toBe(
      `the private key ${keyPath} (for root@${lab.host}:${lab.port}) is encrypted: name the environment variable holding its passphrase in passphraseEnv`,
    );
  });
});
