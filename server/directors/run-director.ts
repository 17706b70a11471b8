/**
 * Running one director's planned steps as ONE step on the director (locked-apply.ts): under
 * its lock, the rules are read; `gate` (the cluster's, apply.ts) compares their version
 * with the one planned on, and only then do the commands run, in order, stopping at the
 * first failure; the read-back under the same lock is compared with the change's intent
 * (VERIFY_FAILED names the command).
 */
import "server-only";
import { ConsoleError, toErrorJson, withDetails, type ConsoleErrorJson } from "@/server/errors";
import { classifyIpvsadmFailure, commandFailed } from "@/server/ipvs/errors";
import { formatEndpoint } from "@/server/ipvs/model";
import type { DirectorSnapshot } from "@/server/live/types";
import { diffRules, type RuleChange } from "@/server/ipvs/rule-diff";
import { rulesOf } from "@/server/ipvs/rules";
import { APPLY_LOCK } from "@/server/live/apply-script";
import { directorIo, type LockedRun } from "./io";
import { rememberSnapshot } from "@/server/live/versions";
import {
  stepResult,
  unchangedResult,
  type DirectorResult,
  type PlannedDirector,
  type StepResult,
} from "./operation";

const STEP_TIMEOUT_MS = 20_000;
/** Reading the rules twice under the lock. */
const READS_TIMEOUT_MS = 30_000;

export interface DirectorOutcome {
  result: DirectorResult;
  snapshot: DirectorSnapshot | null;
  /** At least one command took effect: exit 0, or rules read back that differ from before. */
  changedSomething: boolean;
  /**
   * Why nothing ran here: the rules read under the lock differ from the plan's ("conflict",
   * with that read), another change held the lock ("locked"), or another director said no
   * ("held-back"). null: the commands ran (or there were none).
   */
  stopped:
    | { why: "conflict"; locked: DirectorSnapshot }
    | { why: "locked"; error: ConsoleError }
    | { why: "held-back" }
    | null;
}

/** Says, once the director's rules were read under its lock, whether the commands may run. */
export type DirectorGate = (locked: DirectorSnapshot | null) => Promise<boolean>;

export async function runDirector(
  p: PlannedDirector,
  gate: DirectorGate,
): Promise<DirectorOutcome> {
  if (p.steps.length === 0) {
    return {
      result: unchangedResult(p),
      snapshot: p.snapshot,
      changedSomething: false,
      stopped: null,
    };
  }
  let asked = false;
  let matched = true;
  let run: LockedRun;
  try {
    run = await directorIo().applyLocked(
      p.director,
      p.steps.map((s) => s.argv),
      (locked) => {
        asked = true;
        matched = locked.version === p.snapshot.version;
        return gate(matched ? locked : null);
      },
      { timeoutMs: READS_TIMEOUT_MS + STEP_TIMEOUT_MS * p.steps.length, planned: p.snapshot },
    );
  } catch (e) {
    // Never got to ask: the other directors must not go ahead alone.
    if (!asked) void gate(null);
    const error = withDetails(e, { directorId: p.director.id }, `${p.director.id}: `).toJSON();
    return failed(p, error, asked && matched);
  }
  if (!asked) void gate(null);
  if (run.result === "aborted" || run.result === "lock-busy" || run.result === "lock-failed") {
    const error = notRun(p, run);
    const stopped: DirectorOutcome["stopped"] =
      run.result === "lock-busy"
        ? { why: "locked", error }
        : run.result === "aborted" && !matched && run.locked
          ? { why: "conflict", locked: run.locked }
          : { why: "held-back" };
    return { ...failed(p, error.toJSON(), false), stopped };
  }
  return ran(p, run);
}

function notRun(p: PlannedDirector, run: LockedRun): ConsoleError {
  const id = p.director.id;
  if (run.result === "lock-busy")
    return new ConsoleError(
      "REFUSED",
      `${id}: another change holds the director's lock (${APPLY_LOCK}); nothing was changed. Try again when it is done`,
      { reason: "director-locked", directorId: id, lock: APPLY_LOCK },
    );
  if (run.result === "lock-failed")
    return commandFailed(
      `${id}: the login cannot open the lock file ${APPLY_LOCK} (create it readable, see docs/sudo.md); nothing was changed`,
      { directorId: id, argv: ["flock", APPLY_LOCK], exitCode: null, stderr: run.stderr },
    );
  return new ConsoleError(
    "REFUSED",
    `${id}: nothing was changed here, because another director of the cluster could not go ahead`,
    { reason: "held-back", directorId: id },
  );
}

function failed(p: PlannedDirector, error: ConsoleErrorJson, mayHaveRun: boolean): DirectorOutcome {
  return {
    result: {
      directorId: p.director.id,
      ok: false,
      steps: [],
      error,
      verified: false,
      version: null,
    },
    snapshot: null,
    // The connection dropped after "go": the commands may have run; the next read decides.
    changedSomething: mayHaveRun,
    stopped: null,
  };
}

function ran(p: PlannedDirector, run: LockedRun): DirectorOutcome {
  const steps: StepResult[] = [];
  let error: ConsoleErrorJson | null = null;
  let changedSomething = false;
  for (const [i, step] of p.steps.entries()) {
    const out = run.steps[i];
    if (!out) {
      // "go" was sent and no exit came back: the outcome of this command is unknown.
      if (run.result !== "done" && !error) {
        steps.push({ argv: step.argv, description: step.description, exitCode: null, stderr: "" });
        error = commandFailed(
          `${p.director.id}: the apply stopped before \`${step.argv.join(" ")}\` reported its exit code`,
          { directorId: p.director.id, argv: step.argv, exitCode: null, stderr: run.stderr },
        ).toJSON();
      }
      break;
    }
    steps.push(stepResult(step, out));
    if (out.exitCode !== 0) {
      const { message } = classifyIpvsadmFailure(out.exitCode, out.stderr);
      error = commandFailed(
        `${p.director.id}: ${step.argv.join(" ")} failed (exit ${out.exitCode}): ${message}`,
        {
          directorId: p.director.id,
          argv: step.argv,
          exitCode: out.exitCode,
          stderr: out.stderr,
          stdout: "",
        },
      ).toJSON();
      break;
    }
    changedSomething = true;
  }

  const snapshot = run.after;
  let verified = false;
  if (snapshot) {
    rememberSnapshot(snapshot);
    // A command whose outcome is unknown may still have taken effect: the rules read back
    // decide, not exit codes.
    if (snapshot.version !== p.snapshot.version) changedSomething = true;
    if (error === null) {
      const mismatch = verify(p, snapshot);
      if (mismatch) error = mismatch;
      else verified = true;
    }
  } else if (run.result !== "done") {
    changedSomething ||= run.steps.length > 0;
    error ??= toErrorJson(
      new ConsoleError(
        "VERIFY_FAILED",
        `${p.director.id}: the change ran but the read-back did not come back`,
        { directorId: p.director.id },
      ),
    );
  }

  return {
    result: {
      directorId: p.director.id,
      ok: error === null,
      steps,
      error,
      verified,
      version: snapshot?.version ?? null,
    },
    snapshot,
    changedSomething,
    stopped: null,
  };
}

/** Compares the read-back with the intent; names the command behind the first difference. */
function verify(p: PlannedDirector, snapshot: DirectorSnapshot): ConsoleErrorJson | null {
  const differences = diffRules(p.intended, rulesOf(snapshot.services));
  const sysctlDifferences = Object.entries(p.intendedSysctls)
    .filter(([name, value]) => snapshot.sysctls[name]?.[0] !== value)
    .map(([name, value]) => ({
      name,
      expected: value,
      actual: snapshot.sysctls[name] ?? null,
      text: `net.ipv4.vs.${name} is ${(snapshot.sysctls[name] ?? []).join(" ") || "missing"}, not ${value}`,
    }));
  if (differences.length === 0 && sysctlDifferences.length === 0) return null;

  const first = differences[0];
  const step = first
    ? (p.steps.find((s) => mentions(s.argv, first)) ?? p.steps[p.steps.length - 1])
    : (p.steps.find((s) => s.argv[0] === "sysctl") ?? p.steps[p.steps.length - 1]);
  const command = step?.argv ?? [];
  const texts = [...differences.map((d) => d.text), ...sysctlDifferences.map((d) => d.text)];
  return {
    code: "VERIFY_FAILED",
    message: `${p.director.id}: after \`${command.join(" ")}\` the director does not hold what was meant: ${texts.join("; ")}`,
    details: {
      directorId: p.director.id,
      director: p.director.id,
      command,
      differences,
      sysctls: sysctlDifferences,
    },
  };
}

function mentions(argv: readonly string[], change: RuleChange): boolean {
  const service =
    change.service.kind === "fwm" ? String(change.service.mark) : formatEndpoint(change.service);
  if (!argv.includes(service)) return false;
  if (
    change.kind === "serviceAdded" ||
    change.kind === "serviceRemoved" ||
    change.kind === "serviceEdited"
  )
    return true;
  return argv.includes(formatEndpoint(change.realserver));
}
