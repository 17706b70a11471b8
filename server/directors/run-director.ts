/**
 * Running one director's planned steps: in order, stopping at the first failure, then
 * reading it back and comparing it with the change's intent (VERIFY_FAILED names the command).
 */
import "server-only";
import { toErrorJson, withDetails, type ConsoleErrorJson } from "@/server/errors";
import { classifyIpvsadmFailure, commandFailed } from "@/server/ipvs/errors";
import { formatEndpoint } from "@/server/ipvs/model";
import type { DirectorSnapshot } from "@/server/live/types";
import { diffRules, type RuleChange } from "@/server/ipvs/rule-diff";
import { rulesOf } from "@/server/ipvs/rules";
import { directorIo } from "./io";
import { rememberSnapshot } from "@/server/live/versions";
import type { DirectorResult, PlannedDirector, StepResult } from "./operation";

const STEP_TIMEOUT_MS = 20_000;
export interface DirectorOutcome {
  result: DirectorResult;
  snapshot: DirectorSnapshot | null;
  /** At least one command took effect: exit 0, or rules read back that differ from before. */
  changedSomething: boolean;
}

export async function runDirector(p: PlannedDirector): Promise<DirectorOutcome> {
  const io = directorIo();
  const steps: StepResult[] = [];
  let error: ConsoleErrorJson | null = null;
  let changedSomething = false;

  for (const step of p.steps) {
    try {
      const out = await io.exec(p.director, step.argv, { timeoutMs: STEP_TIMEOUT_MS });
      steps.push({
        argv: step.argv,
        description: step.description,
        exitCode: out.exitCode,
        stderr: out.stderr,
      });
      if (out.exitCode !== 0) {
        const { message } = classifyIpvsadmFailure(out.exitCode, out.stderr);
        error = commandFailed(
          `${p.director.id}: ${step.argv.join(" ")} failed (exit ${out.exitCode}): ${message}`,
          {
            directorId: p.director.id,
            argv: step.argv,
            exitCode: out.exitCode,
            stderr: out.stderr,
            stdout: out.stdout,
          },
        ).toJSON();
        break;
      }
      changedSomething = true;
    } catch (e) {
      steps.push({ argv: step.argv, description: step.description, exitCode: null, stderr: "" });
      error = withDetails(
        e,
        { directorId: p.director.id, argv: step.argv },
        `${p.director.id}: `,
      ).toJSON();
      break;
    }
  }

  let snapshot: DirectorSnapshot | null = null;
  let verified = false;
  if (p.steps.length > 0) {
    try {
      snapshot = await io.readSnapshot(p.director, "change");
      rememberSnapshot(snapshot);
    } catch (e) {
      const err = toErrorJson(e);
      error ??= {
        code: "VERIFY_FAILED",
        message: `${p.director.id}: the change ran but the read-back failed: ${err.message}`,
        details: { directorId: p.director.id, cause: err },
      };
    }
    // A command whose outcome is unknown (the connection dropped, a timeout fired while
    // ipvsadm ran) may still have taken effect: the rules read back decide, not exit codes.
    if (snapshot && snapshot.version !== p.snapshot.version) changedSomething = true;
    if (snapshot && error === null) {
      const mismatch = verify(p, snapshot);
      if (mismatch) error = mismatch;
      else verified = true;
    }
  } else {
    snapshot = p.snapshot;
    verified = true;
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
