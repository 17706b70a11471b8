/**
 * The SSH pool against the real lab director (OpenSSH in a UML guest): connection reuse,
 * recovery, host key refusals, sudo, timeouts, bounded channels, typed errors.
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

/** sshd's own counters (its log is per boot of the guest). */
async function sshdCounts(p: SshPool): Promise<{ connections: number; commands: number }> {
  const r = await p.execScript(
    director,
    'grep -c "Accepted publickey" /var/log/sshd.log; grep -c "Starting session: command" /var/log/sshd.log',
  );
  const [connections = NaN, commands = NaN] = r.stdout.trim().split("\n").map(Number);
  return { connections, commands };
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
      // the counting itself ran over the same connection: sshd saw no new login at all
      expect(after.connections - before.connections).toBe(0);
      expect(after.commands - before.commands).toBe(31);
      expect(p.stats(director.id)).toMatchObject({
        connects: 1,
        commands: 32,
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
    await pool.exec(director, ["true"]);
    const runs = Array.from({ length: 10 }, (_, i) =>
      pool.exec(director, ["sh", "-c", `sleep 0.3; echo ${i}`]),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.stats(director.id)).toMatchObject({ inFlight: 4, queued: 6 });
    const results = await Promise.all(runs);
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
    expect(pool.stats(director.id)).toMatchObject({
      inFlight: 0,
      queued: 0,
      connects: expect.any(Number) as number,
    });
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
