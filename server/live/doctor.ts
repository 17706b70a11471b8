/**
 * The doctor's reads: ONE remote script per run (server/ipvs/doctor/script.ts), parsed and
 * checked by the pure doctor, the last report kept per director. It runs after every full
 * read of the poller (every fullReadEvery polls: see registry.ts), in the background so the
 * poll's push never waits for it, and on demand (doctor.check).
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { isConsoleError } from "@/server/errors";
import { diagnose, type DoctorReport } from "@/server/ipvs/doctor";
import { parseDoctorOutput } from "@/server/ipvs/doctor/parse";
import { DOCTOR_SCRIPT, doctorArgs, doctorTargets } from "@/server/ipvs/doctor/script";
import { getSshPool } from "@/server/db/ssh-pool";
import { commandFailed } from "@/server/ipvs/errors";
import type { SshPool } from "@/server/ssh/pool";
import type { DirectorSnapshot } from "./types";

/** Seconds the probes of the realservers' ports may take, all of them together. */
export const PROBE_TIMEOUT_SECONDS = 1;

export interface DoctorState {
  report: DoctorReport | null;
  /** Why the last run failed, when it did (the report is then the one before). */
  error: { code: string; message: string } | null;
}

const globalForDoctor = globalThis as typeof globalThis & {
  __lvsConsoleDoctor?: {
    last: Map<string, DoctorState>;
    running: Map<string, Promise<DoctorReport>>;
  };
};
const store = (globalForDoctor.__lvsConsoleDoctor ??= {
  last: new Map<string, DoctorState>(),
  running: new Map<string, Promise<DoctorReport>>(),
});

type DoctorTarget = Parameters<SshPool["execScript"]>[0];

/** One doctor run against `snapshot`'s services; one at a time per director (callers share it). */
export function runDoctor(
  director: DoctorTarget,
  snapshot: Pick<DirectorSnapshot, "services" | "owner">,
  options: { pool?: SshPool; signal?: AbortSignal } = {},
): Promise<DoctorReport> {
  const running = store.running.get(director.id);
  if (running) return running;
  const run = readAndDiagnose(director, snapshot, options).then(
    (report) => {
      store.last.set(director.id, { report, error: null });
      return report;
    },
    (e: unknown) => {
      const error = isConsoleError(e)
        ? { code: e.code, message: e.message }
        : { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
      store.last.set(director.id, { report: store.last.get(director.id)?.report ?? null, error });
      throw e;
    },
  );
  const tracked = run.finally(() => store.running.delete(director.id));
  store.running.set(director.id, tracked);
  return tracked;
}

async function readAndDiagnose(
  director: DoctorTarget,
  snapshot: Pick<DirectorSnapshot, "services" | "owner">,
  options: { pool?: SshPool; signal?: AbortSignal },
): Promise<DoctorReport> {
  const pool = options.pool ?? getSshPool();
  const targets = doctorTargets(snapshot.services);
  const started = Date.now();
  const result = await pool.execScript(director, DOCTOR_SCRIPT, {
    args: doctorArgs(targets, PROBE_TIMEOUT_SECONDS),
    timeoutMs: 15_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const at = Date.now();
  if (!result.stdout.includes("@@lvs-console:d0c7@@ files")) {
    throw commandFailed(`the doctor's read of ${director.id} printed nothing`, {
      directorId: director.id,
      argv: ["doctor"],
      exitCode: result.exitCode,
      stderr: result.stderr.slice(0, 4000),
    });
  }
  const inputs = parseDoctorOutput(result.stdout, targets);
  return {
    directorId: director.id,
    at,
    findings: diagnose(inputs, snapshot.services, snapshot.owner?.role ?? null),
    elapsedMs: at - started,
  };
}

/** The last report of a director (null before its first run), and the last run's error. */
export function lastDoctor(directorId: string): DoctorState {
  return store.last.get(directorId) ?? { report: null, error: null };
}

/** Every director's last report, for the fleet's badges. */
export function allDoctorReports(): DoctorReport[] {
  return [...store.last.values()].flatMap((s) => (s.report ? [s.report] : []));
}

/** After a poll: a full read starts a doctor run in the background. Never throws. */
export function doctorAfterRead(
  director: DirectorConfig,
  snapshot: DirectorSnapshot,
  full: boolean,
): void {
  if (!full) return;
  runDoctor(director, snapshot).catch(() => {
    // kept in lastDoctor().error; the next full read tries again
  });
}
