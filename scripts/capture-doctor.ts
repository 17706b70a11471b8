/**
 * Prints DOCTOR_SCRIPT's output on a lab director, as the console would run it: for the
 * doctor's fixtures (server/ipvs/doctor/__fixtures__/). Usage:
 *   npx tsx --conditions=react-server scripts/capture-doctor.ts LAB_NAME > fixture.txt
 */
import { labExec } from "../lab/harness";
import { parseSaved } from "../server/ipvs/parse";
import { DOCTOR_SCRIPT, doctorArgs, doctorTargets } from "../server/ipvs/doctor/script";
import { scriptCommandLine } from "../server/ssh/quote";
import { PROBE_TIMEOUT_SECONDS } from "../server/live/doctor";

const name = process.argv[2];
if (!name) throw new Error("usage: capture-doctor.ts LAB_NAME");
const saved = await labExec(name, "ipvsadm -S -n");
if (saved.code !== 0) throw new Error(`ipvsadm -S -n on ${name}: ${saved.stderr}`);
const targets = doctorTargets(parseSaved(saved.stdout).services);
const r = await labExec(
  name,
  scriptCommandLine(DOCTOR_SCRIPT, doctorArgs(targets, PROBE_TIMEOUT_SECONDS)),
);
process.stdout.write(r.stdout);
