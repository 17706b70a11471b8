/**
 * A channel the director refuses (sshd's MaxSessions reached) fails that one command and
 * nothing else: the pooled connection and the command already running on it carry on.
 *
 * A second sshd in the lab guest with MaxSessions 1 (same host key and authorized keys),
 * listening on 127.0.0.1:2200 inside the guest only, reached with the lab as jump host.
 * The test starts it and ends it by its PID.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { labExec, readLabDirector } from "../../lab/harness";
import { consoleErrorOf } from "./console-harness";
import { directorConfigOf, labAsJumpHost, labName } from "./lab-director";

const PORT = 2200;
const CONFIG = "/run/lvs-test-sshd-2200.conf";
const PID_FILE = "/run/lvs-test-sshd-2200.pid";
const LOG = "/run/lvs-test-sshd-2200.log";

let sshdPid: number | null = null;
let director: DirectorConfig;
let pool: SshPool;

async function onLab(command: string): Promise<string> {
  const r = await labExec(labName(), command, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const lab = await readLabDirector(labName());
  // The lab's sshd_config with its own pid file, a loopback-only listener and one session.
  await onLab(
    [
      `sed -e '/^Port /d' -e '/^ListenAddress /d' -e 's#^PidFile .*#PidFile ${PID_FILE}#' /etc/ssh/sshd_config > ${CONFIG}`,
      `printf 'ListenAddress 127.0.0.1\\nMaxSessions 1\\n' >> ${CONFIG}`,
      `rm -f ${LOG}`,
      `/usr/sbin/sshd -f ${CONFIG} -p ${PORT} -E ${LOG}`,
    ].join(" && "),
  );
  // sshd writes its pid file once it listens.
  for (let i = 0; i < 50 && sshdPid === null; i++) {
    const pid = Number((await labExec(labName(), `cat ${PID_FILE} 2>/dev/null`)).stdout.trim());
    if (Number.isInteger(pid) && pid > 1) sshdPid = pid;
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (sshdPid === null) throw new Error("the second sshd did not start");
  director = directorConfigOf(lab, {
    id: "max-sessions-1",
    host: "127.0.0.1",
    port: PORT,
    jumpHost: labAsJumpHost(lab),
  });
  pool = createSshPool({ trust: { get: () => null } });
});

afterAll(async () => {
  pool?.closeAll();
  if (sshdPid !== null) await onLab(`kill ${sshdPid}; rm -f ${CONFIG} ${LOG}`);
});

describe("a refused channel", () => {
  it("fails only that command with CHANNEL_REFUSED and keeps the connection and the running command", async () => {
    const running = pool.exec(director, ["sh", "-c", "sleep 2; echo first"]);
    // The first command holds the one session sshd allows once its channel is open.
    await until("the first channel", () => pool.stats(director.id).commands === 1);

    const e = await consoleErrorOf(pool.exec(director, ["echo", "second"]));
    expect(e.code).toBe("CHANNEL_REFUSED");
    expect(e.details).toEqual({
      directorId: "max-sessions-1",
      argv: ["echo", "second"],
      // What OpenSSH answers when MaxSessions is reached (RFC 4254 reason 2).
      reason: "connect failed",
    });
    expect(e.message).toMatch(/MaxSessions/);
    expect(pool.stats(director.id)).toMatchObject({ connects: 1, state: "ready" });

    const first = await running;
    expect(first).toEqual({ stdout: "first\n", stderr: "", exitCode: 0 });

    // The session is free again once sshd has processed the close: the next command runs on
    // the same connection (a refusal in between is the same race, not a new connection).
    let next: Awaited<ReturnType<SshPool["exec"]>> | null = null;
    for (let i = 0; i < 20 && next === null; i++) {
      try {
        next = await pool.exec(director, ["echo", "third"]);
      } catch (err) {
        if (!(err instanceof ConsoleError && err.code === "CHANNEL_REFUSED")) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(next?.stdout).toBe("third\n");
    expect(pool.stats(director.id)).toMatchObject({ connects: 1, state: "ready", inFlight: 0 });
    const log = await onLab(`grep -c "Accepted publickey" ${LOG}`);
    expect(Number(log.trim())).toBe(1);
  });
});
