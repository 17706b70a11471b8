/**
 * The SSH pool against the real lab director (OpenSSH in a UML guest): connection reuse,
 * the long-lived remote shell, recovery, host key refusals, sudo, timeouts, bounded
 * channels, typed errors.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isConsoleError } from "@/server/errors";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import type { TrustStore } from "@/server/ssh/host-keys";
import type { DirectorConfig } from "@/server/config";
import { readLabDirector, type LabDirector } from "../../lab/harness";
import { directorConfigOf, labName } from "./lab-director";
import { rejectionOf } from "@/test/support/errors";

const noTrust: TrustStore = { get: () => null };
let lab: LabDirector;
let director: DirectorConfig;
let pool: SshPool;
let dir: string;

const errorOf = rejectionOf;

/**
 * sshd's own counters (its log is per boot of the guest) and the lab's count of what the
 * console's remote shells ran (lab-commands), read in the pool's remote shell.
 */
async function sshdCounts(
  p: SshPool,
): Promise<{ connections: number; sessions: number; shellCommands: number }> {
  const r = await p.execScript(
    director,
    'grep -c "Accepted publickey" /var/log/sshd.log; grep -c "Starting session: command" /var/log/sshd.log; lab-commands detail',
  );
  const [connections = NaN, sessions = NaN] = r.stdout.trim().split("\n").map(Number);
  const shellCommands = Number(/shell-commands (\d+)/.exec(r.stdout)?.[1] ?? NaN);
  return { connections, sessions, shellCommands };
}

/** The processes in the guest whose command line is exactly `args` (ps over an exec channel). */
async function processesRunning(p: SshPool, args: string): Promise<number> {
  const r = await p.exec(director, ["ps", "-eo", "args"]);
  return r.stdout.split("\n").filter((line) => line.trim() === args).length;
}

beforeAll(async () => {
  lab = await readLabDirector(labName());
  director = directorConfigOf(lab);
  pool = createSshPool({ trust: noTrust });
  dir = mkdtempSync(join(tmpdir(), "lvs-ssh-int-"));
});

afterAll(() => {
  pool.closeAll();
});

describe("one connection per director", () => {
  it("runs 30 commands over one SSH connection", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      const before = await sshdCounts(p);
      for (let i = 0; i < 30; i++) {
        const r = await p.exec(director, ["echo", `command ${i}`]);
        expect(r).toEqual({ stdout: `command ${i}\n`, stderr: "", exitCode: 0 });
      }
      const after = await sshdCounts(p);
      // the counting itself ran over the same connection, in its remote shell: sshd saw no
      // new login at all, and a session per exec only
      expect(after.connections - before.connections).toBe(0);
      expect(after.sessions - before.sessions).toBe(30);
      expect(after.shellCommands - before.shellCommands).toBe(1);
      expect(p.stats(director.id)).toMatchObject({
        connects: 1,
        commands: 32,
        execChannels: 30,
        shellsOpened: 1,
        inFlight: 0,
        queued: 0,
        state: "ready",
      });
    } finally {
      p.closeAll();
    }
  });

  it("reconnects by itself after sshd drops the connection", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      await p.exec(director, ["true"]);
      expect(p.stats(director.id).connects).toBe(1);
      // Kill the sshd process serving this very connection (the parent of this shell).
      await p.execScript(director, "kill -TERM $PPID").catch(() => undefined);
      const deadline = Date.now() + 15_000;
      while (p.stats(director.id).connects < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(p.stats(director.id)).toMatchObject({ connects: 2, state: "ready" });
      const r = await p.exec(director, ["echo", "back"]);
      expect(r.stdout).toBe("back\n");
      expect(p.stats(director.id).connects).toBe(2);
    } finally {
      p.closeAll();
    }
  });
});

describe("the remote shell", () => {
  it("runs 30 scripts in one remote shell: no SSH session and no login shell per script", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      const before = await sshdCounts(p);
      for (let i = 0; i < 30; i++) {
        const r = await p.execScript(director, 'echo "$1 $LC_ALL"; echo err >&2; exit "$2"', {
          args: [`script ${i}`, String(i % 3)],
        });
        expect(r).toEqual({ stdout: `script ${i} C\n`, stderr: "err\n", exitCode: i % 3 });
      }
      const after = await sshdCounts(p);
      expect(after.sessions - before.sessions).toBe(0);
      expect(after.shellCommands - before.shellCommands).toBe(31);
      expect(p.stats(director.id)).toMatchObject({
        connects: 1,
        commands: 32,
        execChannels: 0,
        shellsOpened: 1,
      });
    } finally {
      p.closeAll();
    }
  });

  it("kills a script that times out, and the next one runs in a new shell", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      await p.execScript(director, "true");
      const e = await errorOf(p.execScript(director, "sleep 47", { timeoutMs: 500 }));
      expect(e.code).toBe("TIMEOUT");
      expect(e.details.timeoutMs).toBe(500);
      expect((await p.execScript(director, "echo next")).stdout).toBe("next\n");
      expect(p.stats(director.id).shellsOpened).toBe(2);
      // TERM at once, KILL a second later (over an exec channel): the sleep is gone either way
      await new Promise((r) => setTimeout(r, 1500));
      expect(await processesRunning(p, "sleep 47")).toBe(0);
      expect(p.stats(director.id).inFlight).toBe(0);
    } finally {
      p.closeAll();
    }
  });

  it("cancels a script when its AbortSignal aborts", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      const controller = new AbortController();
      const running = p.execScript(director, "sleep 48", { signal: controller.signal });
      setTimeout(() => controller.abort(), 800);
      const e = await errorOf(running);
      expect(e.code).toBe("TIMEOUT");
      expect(e.details.cancelled).toBe(true);
      expect((await p.execScript(director, "echo next")).stdout).toBe("next\n");
      await new Promise((r) => setTimeout(r, 1500));
      expect(await processesRunning(p, "sleep 48")).toBe(0);
    } finally {
      p.closeAll();
    }
  });

  it("fails the script whose shell is killed in the guest, and reopens the shell", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      await p.execScript(director, "true");
      // $$ is the remote shell itself (the script runs in its subshell)
      const started = Date.now();
      const e = await errorOf(p.execScript(director, "kill -KILL $$; sleep 46"));
      expect(e.code).toBe("COMMAND_FAILED");
      expect(e.details.shellEnded).toBe("signal SIGKILL");
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await p.execScript(director, "echo back")).stdout).toBe("back\n");
      expect(p.stats(director.id)).toMatchObject({ connects: 1, shellsOpened: 2 });
      // what the dead shell ran is killed with its process group
      await new Promise((r) => setTimeout(r, 1500));
      expect(await processesRunning(p, "sleep 46")).toBe(0);
    } finally {
      p.closeAll();
    }
  });

  it("fails the script whose connection drops with UNREACHABLE, and the next one reconnects", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      await p.execScript(director, "true");
      // $PPID is the sshd serving this connection
      const e = await errorOf(p.execScript(director, "kill -TERM $PPID; sleep 5"));
      expect(e.code).toBe("UNREACHABLE");
      expect((await p.execScript(director, "echo back")).stdout).toBe("back\n");
      expect(p.stats(director.id)).toMatchObject({ connects: 2, shellsOpened: 2 });
    } finally {
      p.closeAll();
    }
  });

  it("fails a script that prints more than the cap, and the next one runs", async () => {
    const p = createSshPool({ trust: noTrust, maxOutputBytes: 4096 });
    try {
      const e = await errorOf(p.execScript(director, "head -c 100000 /dev/zero | tr '\\0' y"));
      expect(e.code).toBe("COMMAND_FAILED");
      expect(e.message).toMatch(/more than 4096 bytes/);
      expect((await p.execScript(director, "echo small")).stdout).toBe("small\n");
    } finally {
      p.closeAll();
    }
  });

  it("sends a script that finds the shell busy down an exec channel instead of waiting", async () => {
    const p = createSshPool({ trust: noTrust });
    try {
      await p.execScript(director, "true");
      const slow = p.execScript(director, "sleep 1; echo slow");
      const started = Date.now();
      expect((await p.execScript(director, "echo quick")).stdout).toBe("quick\n");
      expect(Date.now() - started).toBeLessThan(900);
      expect((await slow).stdout).toBe("slow\n");
      expect(p.stats(director.id)).toMatchObject({ shellsOpened: 1, execChannels: 1 });
    } finally {
      p.closeAll();
    }
  });

  it("runs scripts as the unprivileged user with sudo -n per program, and recovers from a timeout there", async () => {
    const p = createSshPool({ trust: noTrust });
    const asLvs = { ...director, id: "lab-lvs-shell", user: "lvs", sudo: true };
    try {
      // No shell under sudo: the script runs as the login, `$asroot` runs one program as root.
      expect(
        (
          await p.execScript(asLvs, 'id -u; $asroot id -u; echo "$LC_ALL $1"', {
            args: ["x y"],
          })
        ).stdout,
      ).toBe("1000\n0\nC x y\n");
      const e = await errorOf(p.execScript(asLvs, "sleep 49", { timeoutMs: 500 }));
      expect(e.code).toBe("TIMEOUT");
      expect((await p.execScript(asLvs, "$asroot id -u")).stdout).toBe("0\n");
      expect(p.stats(asLvs.id)).toMatchObject({ shellsOpened: 2 });
    } finally {
      p.closeAll();
    }
  });
});

describe("host keys", () => {
  it("refuses a host key that differs from the pinned one", async () => {
    const wrong = "SHA256:" + "A".repeat(43);
    const e = await errorOf(
      pool.exec({ ...director, id: "pinned-wrong", hostKeyFingerprint: wrong }, ["true"]),
    );
    expect(e.code).toBe("HOST_KEY_CHANGED");
    expect(e.details).toMatchObject({
      directorId: "pinned-wrong",
      expected: wrong,
      actual: lab.hostKeyFingerprint,
    });
  });

  it("reports an unknown host key with its fingerprint, for the trust step", async () => {
    const e = await errorOf(
      pool.exec({ ...director, id: "unpinned", hostKeyFingerprint: undefined }, ["true"]),
    );
    expect(e.code).toBe("HOST_KEY_UNKNOWN");
    expect(e.details).toEqual({
      directorId: "unpinned",
      role: "director",
      fingerprint: lab.hostKeyFingerprint,
      keyType: "ssh-ed25519",
    });
  });

  it("accepts a key trusted earlier, and refuses one that differs from it", async () => {
    const trusting = (fingerprint: string): TrustStore => ({
      get: (id) => ({ directorId: id, fingerprint, trustedAt: 0, trustedBy: "admin" }),
    });
    const ok = createSshPool({ trust: trusting(lab.hostKeyFingerprint) });
    const changed = createSshPool({ trust: trusting("SHA256:" + "B".repeat(43)) });
    try {
      const unpinned = { ...director, hostKeyFingerprint: undefined };
      expect((await ok.exec(unpinned, ["echo", "ok"])).stdout).toBe("ok\n");
      expect((await errorOf(changed.exec(unpinned, ["true"]))).code).toBe("HOST_KEY_CHANGED");
    } finally {
      ok.closeAll();
      changed.closeAll();
    }
  });

  it("checks the lab's known_hosts file ([host]:port entry), and refuses a different key there", async () => {
    const viaKnownHosts = {
      ...director,
      id: "known-hosts",
      hostKeyFingerprint: undefined,
      knownHostsPath: lab.knownHostsPath,
    };
    expect((await pool.exec(viaKnownHosts, ["echo", "ok"])).stdout).toBe("ok\n");

    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "other")]);
    const otherKey = execFileSync("cat", [join(dir, "other.pub")], { encoding: "utf8" })
      .split(" ")
      .slice(0, 2)
      .join(" ");
    const bogus = join(dir, "known_hosts");
    writeFileSync(bogus, `[${lab.host}]:${lab.port} ${otherKey}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", bogus], { stdio: "ignore" });
    const e = await errorOf(
      pool.exec({ ...viaKnownHosts, id: "known-hosts-wrong", knownHostsPath: bogus }, ["true"]),
    );
    expect(e.code).toBe("HOST_KEY_CHANGED");
    expect(e.details.actual).toBe(lab.hostKeyFingerprint);
  });
});

describe("logins and errors", () => {
  it("runs every command through sudo -n for a director that says sudo", async () => {
    const asLvs = { ...director, id: "lab-lvs", user: "lvs", sudo: true };
    const asLvsPlain = { ...director, id: "lab-lvs-plain", user: "lvs", sudo: false };
    expect((await pool.exec(asLvs, ["id", "-u"])).stdout).toBe("0\n");
    expect((await pool.exec(asLvsPlain, ["id", "-u"])).stdout).toBe("1000\n");
    const listing = await pool.execChecked(asLvs, ["ipvsadm", "-Ln"]);
    expect(listing.stdout).toContain("TCP  203.0.113.10:80 rr persistent 300");
  });

  it("sets LC_ALL=C for every command", async () => {
    expect((await pool.execScript(director, 'echo "$LC_ALL"')).stdout).toBe("C\n");
  });

  it("passes script arguments as data, never as shell code", async () => {
    const marker = `/tmp/lvs-injection-${process.pid}`;
    const payload = `$(touch ${marker}); \`touch ${marker}\` ' " ; touch ${marker}`;
    const r = await pool.execScript(
      director,
      'printf "%s\\n" "$1"; [ -e "$2" ] && echo present || echo absent',
      { args: [payload, marker] },
    );
    expect(r.stdout).toBe(`${payload}\nabsent\n`);
  });

  it("reports a failed command with its argv, exit code and stderr", async () => {
    const e = await errorOf(pool.execChecked(director, ["ipvsadm", "-L", "-t", "203.0.113.99:1"]));
    expect(e.code).toBe("COMMAND_FAILED");
    expect(e.details).toMatchObject({
      directorId: director.id,
      argv: ["ipvsadm", "-L", "-t", "203.0.113.99:1"],
      exitCode: 1,
    });
    expect(String(e.details.stderr)).toMatch(/No such service/);
    // a plain exec returns the failure as a value
    expect((await pool.exec(director, ["sh", "-c", "exit 3"])).exitCode).toBe(3);
  });

  it("times out a command, closes its channel and frees the slot", async () => {
    const e = await errorOf(pool.exec(director, ["sleep", "10"], { timeoutMs: 500 }));
    expect(e.code).toBe("TIMEOUT");
    expect(pool.stats(director.id).inFlight).toBe(0);
    expect((await pool.exec(director, ["echo", "next"])).stdout).toBe("next\n");
  });

  it("cancels a command when its AbortSignal aborts", async () => {
    const controller = new AbortController();
    const running = pool.exec(director, ["sleep", "10"], { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const e = await errorOf(running);
    expect(e.code).toBe("TIMEOUT");
    expect(e.details.cancelled).toBe(true);
    expect(pool.stats(director.id).inFlight).toBe(0);
  });

  it("runs at most 4 channels at a time on one connection and queues the rest", async () => {
    // A connection of its own: the timed-out sleeps above still hold sessions on the shared
    // one (sshd keeps a session until its command exits), and MaxSessions is per connection.
    const p = createSshPool({ trust: noTrust });
    try {
      await p.exec(director, ["true"]);
      const runs = Array.from({ length: 10 }, (_, i) =>
        p.exec(director, ["sh", "-c", `sleep 0.3; echo ${i}`]),
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(p.stats(director.id)).toMatchObject({ inFlight: 4, queued: 6 });
      const results = await Promise.all(runs);
      expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
      expect(p.stats(director.id)).toMatchObject({ inFlight: 0, queued: 0, connects: 1 });
    } finally {
      p.closeAll();
    }
  });

  it("names a refused login AUTH_FAILED", async () => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "stranger")]);
    const e = await errorOf(
      pool.exec({ ...director, id: "stranger", privateKeyPath: join(dir, "stranger") }, ["true"]),
    );
    expect(e.code).toBe("AUTH_FAILED");
  });

  it("names a closed port UNREACHABLE, and backs off before trying again", async () => {
    const closed = { ...director, id: "closed-port", port: 1 };
    const first = await errorOf(pool.exec(closed, ["true"]));
    expect(first.code).toBe("UNREACHABLE");
    expect(first.details).toMatchObject({ directorId: "closed-port", errno: "ECONNREFUSED" });
    expect(pool.stats("closed-port").state).toBe("backoff");
    // within the backoff, a command that cannot wait for the next attempt fails at once
    const started = Date.now();
    const again = await errorOf(pool.exec(closed, ["true"], { timeoutMs: 200 }));
    expect(again.code).toBe("UNREACHABLE");
    expect(Date.now() - started).toBeLessThan(150);
  });

  it("refuses to run anything when the command line would be ambiguous", async () => {
    const e = await errorOf(pool.exec(director, ["echo", "a\0b"]));
    expect(isConsoleError(e, "VALIDATION")).toBe(true);
  });
});
