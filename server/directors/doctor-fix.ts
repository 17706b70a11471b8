/**
 * The doctor's director fixes (ip_forward, send_redirects) through the usual change flow:
 * a preview with the exact commands and the sysctl.d file they write; a commit that carries
 * the version the operator saw (here: a hash of the finding's evidence, i.e. the current
 * values), re-reads the director and refuses with CONFLICT when they moved; runs the steps;
 * reads back (the finding must be gone and the file must hold the values) and audits it all.
 * Realservers are never touched: their findings only say what to change there.
 */
import "server-only";
import { createHash } from "node:crypto";
import type { DirectorConfig } from "@/server/config";
import { finishAttempt, recordAttempt, type DirectorRulesRecord } from "@/server/db/audit";
import { ConsoleError, isConsoleError, toErrorJson, type ConsoleErrorCode } from "@/server/errors";
import { directorFixPlan, type FixPlan } from "@/server/ipvs/doctor/fixes";
import type { DoctorReport, Finding, FindingCode } from "@/server/ipvs/doctor";
import { runDoctor } from "@/server/live/doctor";
import { commandLine } from "@/server/ssh/quote";
import { getDirector } from "@/server/config/directors";
import { directorIo } from "./io";
import { stepResult, type StepResult } from "./operation";
import { whileChanging } from "./plan";

const STEP_TIMEOUT_MS = 20_000;

export interface DoctorFixPreview {
  directorId: string;
  code: FindingCode;
  /** Send it back as expectedVersion. */
  version: string;
  finding: Finding;
  steps: Array<{ argv: string[]; command: string; description: string }>;
  file: FixPlan["file"];
}

export interface DoctorFixResult {
  auditId: number;
  ok: boolean;
  verified: boolean;
  steps: StepResult[];
  error: { code: ConsoleErrorCode; message: string } | null;
  /** The doctor's findings read back after the fix. */
  report: DoctorReport | null;
}

function fixVersion(finding: Finding): string {
  return createHash("sha256")
    .update(JSON.stringify([finding.code, finding.evidence]))
    .digest("hex")
    .slice(0, 32);
}

async function freshReport(director: DirectorConfig): Promise<DoctorReport> {
  const snapshot = await directorIo().readSnapshot(director);
  return runDoctor(director, snapshot);
}

function directorFinding(
  report: DoctorReport,
  code: FindingCode,
): Finding & { fix: Extract<Finding["fix"], { where: "director" }> } {
  const finding = report.findings.find((f) => f.code === code && f.fix?.where === "director");
  if (!finding || finding.fix?.where !== "director") {
    throw new ConsoleError(
      "REFUSED",
      `${report.directorId}: the doctor finds no ${code} to fix there now`,
      {
        reason: "would-change-nothing",
        directorId: report.directorId,
        code,
      },
    );
  }
  return { ...finding, fix: finding.fix };
}

function planOf(director: DirectorConfig, finding: ReturnType<typeof directorFinding>) {
  const plan = directorFixPlan(finding.fix.id, finding.fix.settings);
  return {
    plan,
    steps: plan.steps.map((s) => ({
      argv: s.argv,
      command: commandLine(s.argv, { sudo: director.sudo }),
      description: s.description,
    })),
  };
}

export async function previewDoctorFix(
  directorId: string,
  code: FindingCode,
): Promise<DoctorFixPreview> {
  const director = getDirector(directorId);
  const finding = directorFinding(await freshReport(director), code);
  const { plan, steps } = planOf(director, finding);
  return { directorId, code, version: fixVersion(finding), finding, steps, file: plan.file };
}

function record(
  settings: ReadonlyArray<{ key: string }>,
  values: Record<string, number>,
  id: string,
): Record<string, DirectorRulesRecord> {
  return {
    [id]: {
      version: "",
      services: [],
      sysctls: Object.fromEntries(
        settings.map((s) => [s.key, values[s.key] === undefined ? [] : [values[s.key] ?? 0]]),
      ),
    },
  };
}

function valuesFrom(finding: Finding): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of finding.evidence) {
    const m = /^(\S+) = (\d+)/.exec(line);
    if (m) values[m[1] ?? ""] = Number(m[2]);
  }
  return values;
}

const running = new Set<string>();

export async function applyDoctorFix(input: {
  directorId: string;
  code: FindingCode;
  expectedVersion: string;
  user: { name: string; remoteAddress?: string | null };
}): Promise<DoctorFixResult> {
  const director = getDirector(input.directorId);
  if (running.has(director.id))
    throw new ConsoleError(
      "CONFLICT",
      `${director.id}: another doctor fix is being applied there`,
      { directorId: director.id },
    );
  running.add(director.id);
  try {
    return await whileChanging(director.clusterId, () => apply(director, input));
  } finally {
    running.delete(director.id);
  }
}

async function apply(
  director: DirectorConfig,
  input: Parameters<typeof applyDoctorFix>[0],
): Promise<DoctorFixResult> {
  const attempt = {
    user: input.user.name,
    remoteAddress: input.user.remoteAddress ?? null,
    action: "doctor.fix",
    clusterId: director.clusterId,
    directors: [director.id],
    summary: `doctor: fix ${input.code} on ${director.id}`,
    change: { code: input.code },
  };
  let finding: ReturnType<typeof directorFinding>;
  try {
    finding = directorFinding(await freshReport(director), input.code);
  } catch (e) {
    const auditId = recordAttempt(attempt);
    const refused = isConsoleError(e, "REFUSED");
    const err = isConsoleError(e)
      ? e.toJSON()
      : { code: "INTERNAL" as const, message: String(e), details: {} };
    finishAttempt(auditId, { result: refused ? "refused" : "failed", error: err });
    throw new ConsoleError(err.code, err.message, { ...err.details, auditId }, { cause: e });
  }
  const { plan } = planOf(director, finding);
  const argv = { [director.id]: plan.steps.map((s) => s.argv) };
  const before = record(finding.fix.settings, valuesFrom(finding), director.id);
  const version = fixVersion(finding);
  if (version !== input.expectedVersion) {
    const auditId = recordAttempt({ ...attempt, argv, before });
    const error = new ConsoleError(
      "CONFLICT",
      `${director.id}: the director changed since you looked: ${finding.evidence.join("; ")}`,
      {
        auditId,
        directorId: director.id,
        expected: input.expectedVersion,
        actual: version,
        evidence: finding.evidence,
      },
    );
    finishAttempt(auditId, { result: "conflict", error: error.toJSON() });
    throw error;
  }

  const auditId = recordAttempt({
    ...attempt,
    change: { code: input.code, settings: finding.fix.settings, file: plan.file },
    argv,
    before,
  });
  const steps: DoctorFixResult["steps"] = [];
  let error: DoctorFixResult["error"] = null;
  for (const step of plan.steps) {
    try {
      const out = await directorIo().exec(director, step.argv, { timeoutMs: STEP_TIMEOUT_MS });
      steps.push(stepResult(step, out));
      if (out.exitCode !== 0) {
        error = {
          code: "COMMAND_FAILED",
          message: `${director.id}: ${step.argv.slice(0, 3).join(" ")} failed (exit ${out.exitCode}): ${out.stderr.trim().split("\n")[0] ?? ""}`,
        };
        break;
      }
    } catch (e) {
      steps.push({ argv: step.argv, description: step.description, exitCode: null, stderr: "" });
      error = isConsoleError(e)
        ? { code: e.code, message: e.message }
        : { code: "INTERNAL", message: String(e) };
      break;
    }
  }

  let report: DoctorReport | null = null;
  let verified = false;
  try {
    report = await freshReport(director);
    const still = report.findings.some((f) => f.code === input.code);
    verified = !still && (await persistedHolds(director, plan));
    if (!verified && error === null) {
      error = {
        code: "VERIFY_FAILED",
        message: still
          ? `${director.id}: after the fix the doctor still finds ${input.code}`
          : `${director.id}: ${plan.file.path} does not hold the new values`,
      };
    }
  } catch (e) {
    error ??= {
      code: "VERIFY_FAILED",
      message: `${director.id}: the fix ran but the read-back failed: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  const ok = error === null;
  const after = verified
    ? record(
        finding.fix.settings,
        Object.fromEntries(finding.fix.settings.map((s) => [s.key, s.value])),
        director.id,
      )
    : null;
  finishAttempt(auditId, {
    result: ok ? "ok" : "failed",
    after,
    error: error ? toErrorJson(new ConsoleError(error.code, error.message)) : null,
    details: { steps, verified },
  });
  return { auditId, ok, verified, steps, error, report };
}

/** The file the fix wrote, read back: every line of the plan is in it. */
async function persistedHolds(director: DirectorConfig, plan: FixPlan): Promise<boolean> {
  const out = await directorIo().exec(director, ["cat", plan.file.path], {
    timeoutMs: STEP_TIMEOUT_MS,
  });
  return out.exitCode === 0 && out.stdout === plan.file.content;
}
