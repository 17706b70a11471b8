/**
 * npm run bench [-- --json]: the live layer against the lab director, side by side in one
 * run (interleaved, so the machine's load hits every method alike). Every method runs the
 * very command line the console sends (quote.ts scriptCommandLine), so they compare like
 * with like:
 *
 * - snapshotMs: one warm LIGHT poll (readSnapshot over the pooled connection, server side),
 *   what the poller runs in the steady state;
 * - freshSshMs: the OpenSSH client running the same light poll, new connection each time;
 * - controlMasterMs: the same over an OpenSSH ControlMaster connection, warm;
 * - snapshotVsFreshSsh (target <= 0.3) and snapshotVsControlMaster (target <= 1.0);
 * - for information, the FULL read (the first poll of a connection, every Nth poll):
 *   fullSnapshotMs and fullControlMasterMs;
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
import { lastRead, readSnapshot } from "@/server/live/snapshot";
import {
  snapshotArgs,
  SNAPSHOT_SCRIPT,
  type ReadKind,
  type ReadRequest,
} from "@/server/live/snapshot-script";
import type { DirectorSnapshot } from "@/server/live/types";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { scriptCommandLine } from "@/server/ssh/quote";
import { ensureLab, stopLab, type LabDirector } from "../lab/harness";

const ROUNDS = 5;
const SNAPSHOTS_PER_ROUND = 4;
const CONTROL_MASTER_PER_ROUND = 2;
const FULL_PER_ROUND = 1;
/** Light polls only, for the timed samples (the poller's default is every 15th poll full). */
const NEVER_FULL = 1_000_000;
const FANOUT_INTERVAL_MS = 2000;
const FANOUT_INTERVALS = 4;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function run(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`${cmd} failed: ${error.message}`));
      if (!stdout.includes("@@lvs-console:") && !args.includes("-O"))
        return reject(new Error(`${cmd} printed no snapshot`));
      resolve(performance.now() - started);
    });
  });
}

function sshArgs(lab: LabDirector, extra: string[], command: string): string[] {
  return [
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${lab.knownHostsPath}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "LogLevel=ERROR",
    ...extra,
    "-i",
    lab.privateKeyPath,
    "-p",
    String(lab.port),
    `${lab.user}@${lab.host}`,
    command,
  ];
}

/** One poll the way the poller runs it; fails when it was not the kind asked for. */
async function poll(
  director: DirectorConfig,
  pool: SshPool,
  previous: DirectorSnapshot | null,
  kind: ReadKind,
): Promise<DirectorSnapshot> {
  const snapshot = await readSnapshot(director, {
    pool,
    previous,
    mode: "poll",
    fullReadEvery: kind === "full" ? 1 : NEVER_FULL,
  });
  const request = lastRead(director.id, pool);
  if (request?.kind !== kind)
    throw new Error(`asked for a ${kind} poll, ran ${JSON.stringify(request)}`);
  return snapshot;
}

async function fanout(director: DirectorConfig, subscribers: number): Promise<number> {
  const pool = createSshPool({ trust: { get: () => null } });
  try {
    await readSnapshot(director, { pool }); // connect and warm up first
    const poller = new DirectorPoller(director, {
      intervalMs: FANOUT_INTERVAL_MS,
      retry: { baseMs: 2000, maxMs: 30_000 },
      // As server/live/registry.ts reads.
      read: (d, o) => readSnapshot(d, { ...o, pool, mode: "poll" }),
    });
    const before = pool.stats(director.id).commands;
    const offs = Array.from({ length: subscribers }, () => poller.subscribe(() => undefined));
    // Stop just before the next poll would start: exactly FANOUT_INTERVALS polls ran.
    await new Promise((r) =>
      setTimeout(r, FANOUT_INTERVAL_MS * FANOUT_INTERVALS - FANOUT_INTERVAL_MS / 2),
    );
    offs.forEach((off) => off());
    return (pool.stats(director.id).commands - before) / FANOUT_INTERVALS;
  } finally {
    pool.closeAll();
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const name = process.env.LVS_LAB_NAME ?? "lab";
  const { director: lab, startedByUs } = await ensureLab({
    name,
    port: Number(process.env.LVS_LAB_PORT ?? 2222),
  });
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
  const cm = [
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${controlPath}`,
    "-o",
    "ControlPersist=60",
  ];
  try {
    // Warm-up: the pooled connection, and the first poll (a full read, which light ones go by).
    let previous: DirectorSnapshot = await poll(director, pool, null, "full");
    previous = await poll(director, pool, previous, "light");
    const light = lastRead(director.id, pool);
    previous = await poll(director, pool, previous, "full");
    const full = lastRead(director.id, pool);
    if (!light || !full) throw new Error("no read recorded");
    // The very command lines those polls sent.
    const lightCommand = scriptCommandLine(SNAPSHOT_SCRIPT, snapshotArgs(light));
    const fullCommand = scriptCommandLine(SNAPSHOT_SCRIPT, snapshotArgs(full));
    await run("ssh", sshArgs(lab, cm, lightCommand)); // opens the ControlMaster

    const snapshotMs: number[] = [];
    const freshMs: number[] = [];
    const controlMasterMs: number[] = [];
    const fullSnapshotMs: number[] = [];
    const fullControlMasterMs: number[] = [];
    const timed = async (into: number[], kind: ReadKind) => {
      const started = performance.now();
      previous = await poll(director, pool, previous, kind);
      into.push(performance.now() - started);
    };
    for (let round = 0; round < ROUNDS; round++) {
      freshMs.push(await run("ssh", sshArgs(lab, [], lightCommand)));
      for (let i = 0; i < CONTROL_MASTER_PER_ROUND; i++)
        controlMasterMs.push(await run("ssh", sshArgs(lab, cm, lightCommand)));
      for (let i = 0; i < SNAPSHOTS_PER_ROUND; i++) await timed(snapshotMs, "light");
      for (let i = 0; i < FULL_PER_ROUND; i++) {
        fullControlMasterMs.push(await run("ssh", sshArgs(lab, cm, fullCommand)));
        await timed(fullSnapshotMs, "full");
      }
    }
    await run("ssh", [
      "-o",
      `ControlPath=${controlPath}`,
      "-O",
      "exit",
      `${lab.user}@${lab.host}`,
    ]).catch(() => undefined);

    const fanoutExecs1 = await fanout(director, 1);
    const fanoutExecs50 = await fanout(director, 50);

    const describe = (r: ReadRequest) => `${r.kind} (${snapshotArgs(r).join(" ")})`;
    const result = {
      pollKind: describe(light),
      fullKind: describe(full),
      snapshotMs: Math.round(median(snapshotMs)),
      freshSshMs: Math.round(median(freshMs)),
      controlMasterMs: Math.round(median(controlMasterMs)),
      snapshotVsFreshSsh: Number((median(snapshotMs) / median(freshMs)).toFixed(3)),
      snapshotVsControlMaster: Number((median(snapshotMs) / median(controlMasterMs)).toFixed(3)),
      fullSnapshotMs: Math.round(median(fullSnapshotMs)),
      fullControlMasterMs: Math.round(median(fullControlMasterMs)),
      fanoutExecs1,
      fanoutExecs50,
      samples: {
        snapshot: snapshotMs.length,
        freshSsh: freshMs.length,
        controlMaster: controlMasterMs.length,
        fullSnapshot: fullSnapshotMs.length,
        fullControlMaster: fullControlMasterMs.length,
      },
      lab: name,
    };
    if (json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(
        `measured: the steady-state ${result.pollKind} poll; for information, the ${result.fullKind} read`,
      );
      const rows: Array<[string, string, string]> = [
        ["warm light poll (pooled ssh2), median ms", String(result.snapshotMs), ""],
        ["OpenSSH, new connection each time, median ms", String(result.freshSshMs), ""],
        ["OpenSSH ControlMaster (warm), median ms", String(result.controlMasterMs), ""],
        ["snapshotVsFreshSsh", String(result.snapshotVsFreshSsh), "target <= 0.3"],
        ["snapshotVsControlMaster", String(result.snapshotVsControlMaster), "target <= 1.0"],
        ["full read (pooled ssh2), median ms", String(result.fullSnapshotMs), "information"],
        [
          "full read, OpenSSH ControlMaster, median ms",
          String(result.fullControlMasterMs),
          "information",
        ],
        ["fanoutExecs1 (SSH commands per interval)", String(fanoutExecs1), ""],
        [
          "fanoutExecs50 (SSH commands per interval)",
          String(fanoutExecs50),
          "target = fanoutExecs1",
        ],
      ];
      const width = Math.max(...rows.map((r) => r[0].length));
      for (const [label, value, target] of rows)
        console.log(`${label.padEnd(width)}  ${value.padStart(8)}  ${target}`);
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
