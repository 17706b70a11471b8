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
 * - inGuestMs: the light poll's ipvsadm commands timed inside the guest itself (a loop
 *   in one shell, its clock read before and after), what the poll costs at the least;
 * - snapshotVsInGuest (target <= 1.5), snapshotVsControlMaster (target <= 0.6) and
 *   snapshotVsFreshSsh (target <= 0.2);
 * - processesPerPoll: processes the director starts per light poll (its fork counter in
 *   /proc/stat around a run of polls), and sshSessionsPerPoll (the pool's own count);
 * - for information, the FULL read (the first poll of a connection, every Nth poll):
 *   fullSnapshotMs and fullControlMasterMs;
 * - fanoutExecs1 / fanoutExecs50: SSH commands per poll interval with 1 and 50 subscribers.
 *
 * The lab may be live: a poll that had to read everything because the rules changed under
 * it (or whose read failed) is not a sample of its kind and is repeated.
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
const IN_GUEST_LOOPS = 10;
const PROCESS_COUNT_POLLS = 10;
/** A sample the lab's changes keep spoiling is given up after this many tries. */
const ATTEMPTS = 5;

/**
 * $1 loops of the light poll's script ($2, run as a function with the poll's arguments),
 * timed in the guest: the cost of reading the clock (a process) is measured and taken off.
 * Prints microseconds per poll.
 */
const IN_GUEST_SCRIPT = `poll() { eval "$lvs_script"; }
lvs_script=$2
t0=$(date +%s%N); t1=$(date +%s%N)
i=0
while [ "$i" -lt "$1" ]; do poll light 0 0 >/dev/null 2>&1; i=$((i + 1)); done
t2=$(date +%s%N)
echo $(( (t2 - t1 - (t1 - t0)) / $1 / 1000 ))
`;

/** The director's count of processes started since boot (builtins only: no process of its own). */
const FORKS_SCRIPT = `while read -r k v; do [ "$k" = processes ] && echo "$v"; done </proc/stat`;

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

let repeated = 0;

/**
 * One poll the way the poller runs it, timed. A poll of another kind than asked (a light
 * poll that saw the rules change reads everything) or a failed one is repeated.
 */
async function poll(
  director: DirectorConfig,
  pool: SshPool,
  previous: DirectorSnapshot | null,
  kind: ReadKind,
): Promise<{ snapshot: DirectorSnapshot; ms: number }> {
  let last: unknown = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const started = performance.now();
    try {
      const snapshot = await readSnapshot(director, {
        pool,
        previous,
        mode: "poll",
        fullReadEvery: kind === "full" ? 1 : NEVER_FULL,
      });
      const ms = performance.now() - started;
      previous = snapshot;
      if (lastRead(director.id, pool)?.kind === kind) return { snapshot, ms };
      last = new Error(
        `asked for a ${kind} poll, ran ${JSON.stringify(lastRead(director.id, pool))}`,
      );
    } catch (e) {
      last = e;
    }
    repeated++;
  }
  throw last instanceof Error ? last : new Error(String(last));
}

async function inGuestMs(director: DirectorConfig, pool: SshPool): Promise<number> {
  const r = await pool.execScript(director, IN_GUEST_SCRIPT, {
    args: [String(IN_GUEST_LOOPS), SNAPSHOT_SCRIPT],
    timeoutMs: 60_000,
  });
  const us = Number(r.stdout.trim());
  if (!Number.isFinite(us) || us <= 0) throw new Error(`in-guest timing printed ${r.stdout}`);
  return us / 1000;
}

async function forks(director: DirectorConfig, pool: SshPool): Promise<number> {
  const r = await pool.execScript(director, FORKS_SCRIPT);
  const n = Number(r.stdout.trim());
  if (!Number.isInteger(n)) throw new Error(`cannot read the fork counter: ${r.stdout}`);
  return n;
}

/** Processes started on the director per light poll, less what reading the counter costs. */
async function processesPerPoll(
  director: DirectorConfig,
  pool: SshPool,
  previous: DirectorSnapshot,
): Promise<{ processes: number; sessions: number }> {
  const m0 = await forks(director, pool);
  const m1 = await forks(director, pool);
  const sessionsBefore = sessions(pool, director.id);
  for (let i = 0; i < PROCESS_COUNT_POLLS; i++)
    previous = (await poll(director, pool, previous, "light")).snapshot;
  const sessionsAfter = sessions(pool, director.id);
  const m2 = await forks(director, pool);
  return {
    processes: (m2 - m1 - (m1 - m0)) / PROCESS_COUNT_POLLS,
    sessions: (sessionsAfter - sessionsBefore) / PROCESS_COUNT_POLLS,
  };
}

/** SSH sessions the pool opened: exec channels and shells. */
function sessions(pool: SshPool, directorId: string): number {
  const s = pool.stats(directorId);
  return s.execChannels + s.shellsOpened;
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
    let previous: DirectorSnapshot = (await poll(director, pool, null, "full")).snapshot;
    previous = (await poll(director, pool, previous, "light")).snapshot;
    const light = lastRead(director.id, pool);
    previous = (await poll(director, pool, previous, "full")).snapshot;
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
    const inGuest: number[] = [];
    const timed = async (into: number[], kind: ReadKind) => {
      const sample = await poll(director, pool, previous, kind);
      previous = sample.snapshot;
      into.push(sample.ms);
    };
    // The light polls' state: a full read to go by, then light polls only.
    previous = (await poll(director, pool, previous, "light")).snapshot;
    for (let round = 0; round < ROUNDS; round++) {
      inGuest.push(await inGuestMs(director, pool));
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

    const perPoll = await processesPerPoll(director, pool, previous);
    const fanoutExecs1 = await fanout(director, 1);
    const fanoutExecs50 = await fanout(director, 50);

    const describe = (r: ReadRequest) => `${r.kind} (${snapshotArgs(r).join(" ")})`;
    const result = {
      pollKind: describe(light),
      fullKind: describe(full),
      snapshotMs: Math.round(median(snapshotMs)),
      freshSshMs: Math.round(median(freshMs)),
      controlMasterMs: Math.round(median(controlMasterMs)),
      inGuestMs: Number(median(inGuest).toFixed(1)),
      snapshotVsInGuest: Number((median(snapshotMs) / median(inGuest)).toFixed(3)),
      snapshotVsFreshSsh: Number((median(snapshotMs) / median(freshMs)).toFixed(3)),
      snapshotVsControlMaster: Number((median(snapshotMs) / median(controlMasterMs)).toFixed(3)),
      fullSnapshotMs: Math.round(median(fullSnapshotMs)),
      fullControlMasterMs: Math.round(median(fullControlMasterMs)),
      fanoutExecs1,
      fanoutExecs50,
      processesPerPoll: perPoll.processes,
      sshSessionsPerPoll: perPoll.sessions,
      repeatedSamples: repeated,
      samples: {
        inGuest: inGuest.length,
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
        ["warm light poll (pooled ssh2, remote shell), median ms", String(result.snapshotMs), ""],
        ["OpenSSH, new connection each time, median ms", String(result.freshSshMs), ""],
        ["OpenSSH ControlMaster (warm), median ms", String(result.controlMasterMs), ""],
        ["the same ipvsadm commands timed in the guest, median ms", String(result.inGuestMs), ""],
        ["snapshotVsInGuest", String(result.snapshotVsInGuest), "target <= 1.5"],
        ["snapshotVsControlMaster", String(result.snapshotVsControlMaster), "target <= 0.6"],
        ["snapshotVsFreshSsh", String(result.snapshotVsFreshSsh), "target <= 0.2"],
        [
          "processes started on the director per light poll",
          String(result.processesPerPoll),
          "information",
        ],
        ["SSH sessions opened per light poll", String(result.sshSessionsPerPoll), "information"],
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
      if (repeated > 0) {
        rows.push([
          "samples repeated (rules changed under a poll, or a read failed)",
          String(repeated),
          "information",
        ]);
      }
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
