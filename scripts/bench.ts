/**
 * npm run bench [-- --json]: the live layer against the lab director, side by side in one
 * run (interleaved, so the machine's load hits every method alike):
 *
 * - snapshotMs: one warm poll (readSnapshot over the pooled connection), server side;
 * - freshSshMs: the OpenSSH client running the same remote command, new connection each time;
 * - controlMasterMs: the same with an OpenSSH ControlMaster connection, warm;
 * - snapshotVsFreshSsh (target <= 0.3) and snapshotVsControlMaster (target <= 1.0);
 * - fanoutExecs1 / fanoutExecs50: SSH commands per poll interval with 1 and 50 subscribers.
 *
 * LVS_LAB_NAME / LVS_LAB_PORT pick the lab (default "lab" on 2222); a lab started here is
 * stopped at the end.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DirectorConfig } from "@/server/config";
import { DirectorPoller } from "@/server/live/poller";
import { readSnapshot } from "@/server/live/snapshot";
import { SNAPSHOT_SCRIPT } from "@/server/live/snapshot-script";
import type { DirectorSnapshot } from "@/server/live/types";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { commandLine } from "@/server/ssh/quote";
import { ensureLab, stopLab, type LabDirector } from "../lab/harness";

const ROUNDS = 5;
const SNAPSHOTS_PER_ROUND = 4;
const CONTROL_MASTER_PER_ROUND = 2;
const FANOUT_INTERVAL_MS = 2000;
const FANOUT_INTERVALS = 4;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function run(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`${cmd} failed: ${error.message}`));
      if (!stdout.includes("@@lvs-console:") && !args.includes("-O")) return reject(new Error(`${cmd} printed no snapshot`));
      resolve(performance.now() - started);
    });
  });
}

function sshArgs(lab: LabDirector, extra: string[], command: string): string[] {
  return [
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${lab.knownHostsPath}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", "LogLevel=ERROR",
    ...extra,
    "-i", lab.privateKeyPath,
    "-p", String(lab.port),
    `${lab.user}@${lab.host}`,
    command,
  ];
}

async function fanout(director: DirectorConfig, subscribers: number): Promise<number> {
  const pool = createSshPool({ trust: { get: () => null } });
  try {
    await readSnapshot(director, { pool }); // connect and warm up first
    const poller = new DirectorPoller(director, {
      intervalMs: FANOUT_INTERVAL_MS,
      retry: { baseMs: 2000, maxMs: 30_000 },
      read: (d, o) => readSnapshot(d, { ...o, pool }),
    });
    const before = pool.stats(director.id).commands;
    const offs = Array.from({ length: subscribers }, () => poller.subscribe(() => undefined));
    // Stop just before the next poll would start: exactly FANOUT_INTERVALS polls ran.
    await new Promise((r) => setTimeout(r, FANOUT_INTERVAL_MS * FANOUT_INTERVALS - FANOUT_INTERVAL_MS / 2));
    offs.forEach((off) => off());
    return (pool.stats(director.id).commands - before) / FANOUT_INTERVALS;
  } finally {
    pool.closeAll();
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const name = process.env.LVS_LAB_NAME ?? "lab";
  const { director: lab, startedByUs } = await ensureLab({ name, port: Number(process.env.LVS_LAB_PORT ?? 2222) });
  const director: DirectorConfig = {
    id: lab.id,
    clusterId: "bench",
    host: lab.host,
    port: lab.port,
    user: lab.user,
    privateKeyPath: lab.privateKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
    sudo: false,
  };
  const pool: SshPool = createSshPool({ trust: { get: () => null } });
  const controlPath = join(mkdtempSync(join(tmpdir(), "lvs-bench-")), "cm");
  const cm = ["-o", "ControlMaster=auto", "-o", `ControlPath=${controlPath}`, "-o", "ControlPersist=60"];
  try {
    // Warm-up: the pooled connection, and the first poll (which also reads version/timeouts).
    let previous: DirectorSnapshot = await readSnapshot(director, { pool });
    previous = await readSnapshot(director, { pool, previous });
    // The very command a warm poll sends (full = 0; --tun-info when the lab has tunnels).
    const tunnels = previous.services.some((s) => s.realservers.some((r) => r.forward === "tunnel"));
    const command = commandLine(["sh", "-c", SNAPSHOT_SCRIPT, "sh", "0", tunnels ? "1" : "0"]);
    await run("ssh", sshArgs(lab, cm, command)); // opens the ControlMaster

    const snapshotMs: number[] = [];
    const freshMs: number[] = [];
    const controlMasterMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      freshMs.push(await run("ssh", sshArgs(lab, [], command)));
      for (let i = 0; i < CONTROL_MASTER_PER_ROUND; i++) controlMasterMs.push(await run("ssh", sshArgs(lab, cm, command)));
      for (let i = 0; i < SNAPSHOTS_PER_ROUND; i++) {
        const started = performance.now();
        previous = await readSnapshot(director, { pool, previous });
        snapshotMs.push(performance.now() - started);
      }
    }
    await run("ssh", ["-o", `ControlPath=${controlPath}`, "-O", "exit", `${lab.user}@${lab.host}`]).catch(() => undefined);

    const fanoutExecs1 = await fanout(director, 1);
    const fanoutExecs50 = await fanout(director, 50);

    const result = {
      snapshotMs: Math.round(median(snapshotMs)),
      freshSshMs: Math.round(median(freshMs)),
      controlMasterMs: Math.round(median(controlMasterMs)),
      snapshotVsFreshSsh: Number((median(snapshotMs) / median(freshMs)).toFixed(3)),
      snapshotVsControlMaster: Number((median(snapshotMs) / median(controlMasterMs)).toFixed(3)),
      fanoutExecs1,
      fanoutExecs50,
      samples: { snapshot: snapshotMs.length, freshSsh: freshMs.length, controlMaster: controlMasterMs.length },
      lab: name,
    };
    if (json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      const rows: Array<[string, string, string]> = [
        ["warm snapshot (pooled ssh2), median ms", String(result.snapshotMs), ""],
        ["OpenSSH, new connection each time, median ms", String(result.freshSshMs), ""],
        ["OpenSSH ControlMaster (warm), median ms", String(result.controlMasterMs), ""],
        ["snapshotVsFreshSsh", String(result.snapshotVsFreshSsh), "target <= 0.3"],
        ["snapshotVsControlMaster", String(result.snapshotVsControlMaster), "target <= 1.0"],
        ["fanoutExecs1 (SSH commands per interval)", String(fanoutExecs1), ""],
        ["fanoutExecs50 (SSH commands per interval)", String(fanoutExecs50), "target = fanoutExecs1"],
      ];
      const width = Math.max(...rows.map((r) => r[0].length));
      for (const [label, value, target] of rows) console.log(`${label.padEnd(width)}  ${value.padStart(8)}  ${target}`);
    }
  } finally {
    pool.closeAll();
    if (startedByUs) await stopLab(name);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
