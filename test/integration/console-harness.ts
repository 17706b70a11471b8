/**
 * Shared setup for the change, drain and cluster tests: a console configured with lab
 * directors, a throw-away audit database, a tRPC caller acting as an operator, and the
 * restore of a lab's original rules.
 */
import { readFileSync } from "node:fs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { configFromObject, setConfig, type DirectorConfig } from "@/server/config";
import { closeDb } from "@/server/db";
import { getSshPool } from "@/server/db/ssh-pool";
import { createCallerFactory, createContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { labExec } from "../../lab/harness";

export const ORIGINAL_RULES = readFileSync(
  new URL("../../server/ipvs/__fixtures__/ipvsadm-Sn.txt", import.meta.url),
  "utf8",
);

export const OPERATOR = "h5-integration";

let dbDir: string | null = null;

/** Points the console at `clusters` and at a fresh audit database. */
export function setUpConsole(clusters: Array<{ id: string; directors: DirectorConfig[] }>): void {
  dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-int-"));
  process.env.LVS_CONSOLE_DB = path.join(dbDir, "console.sqlite");
  setConfig(
    configFromObject({
      pollIntervalMs: 1000,
      clusters: clusters.map((c) => ({
        id: c.id,
        name: c.id,
        directors: c.directors.map(({ clusterId: _cluster, ...d }) => d),
      })),
    }),
  );
}

export function tearDownConsole(): void {
  getSshPool().closeAll();
  closeDb();
  setConfig(undefined);
  delete process.env.LVS_CONSOLE_DB;
  if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  dbDir = null;
}

export function operatorCaller() {
  return createCallerFactory(appRouter)(
    createContext({ user: { name: OPERATOR, role: "operator" }, remoteAddress: "127.0.0.1" }),
  );
}

/** The ConsoleError behind a rejected tRPC call (test/support/errors.ts). */
export { rejectionOf as consoleErrorOf } from "@/test/support/errors";

/** Runs a command on a lab director and returns stdout; throws on a non-zero exit. */
export async function onLab(name: string, command: string, input?: string): Promise<string> {
  const r = await labExec(name, command, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${name}: ${command} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `ipvsadm -C` then `ipvsadm -R` from the fixture: the lab's rules as they were captured. */
export async function restoreRules(name: string): Promise<void> {
  await onLab(name, "ipvsadm -C && ipvsadm -R", ORIGINAL_RULES);
}

/** The lab's rules in `ipvsadm -Sn` form, lines sorted, for comparing with the fixture. */
export async function savedRules(name: string): Promise<string[]> {
  return (await onLab(name, "ipvsadm -Sn")).trim().split("\n").sort();
}
