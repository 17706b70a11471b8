import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { labExec, repoRoot } from "../lab/harness";

/**
 * The lab the suite runs against: the shared "lab" on 2222 unless LVS_LAB_NAME /
 * LVS_LAB_PORT pick another (e.g. a private one while developing).
 */
export const LAB_NAME = process.env.LVS_LAB_NAME ?? "lab";
export const LAB_PORT = Number(process.env.LVS_LAB_PORT ?? 2222);
/** The keepalived HA pair (lab.sh up --ha): NAME-a on PORT, NAME-b on PORT + 1. */
export const HA_LAB_NAME = process.env.LVS_HA_LAB_NAME ?? "ha";
export const HA_LAB_PORT = Number(process.env.LVS_HA_LAB_PORT ?? 2230);
/** The console's id for the lab director (e2e/global-setup.ts writes the config). */
export const LAB = "lab";
/** The same lab director under another id, with no host key configured (trust step). */
export const UNKNOWN_KEY_DIRECTOR = "lab-unknown-key";
export const artifactsDir = join(repoRoot, "e2e", "artifacts");

/** Runs a command on the lab director as root and fails the test on a non-zero exit. */
export async function lab(command: string, timeoutMs = 60_000): Promise<string> {
  const r = await labExec(LAB_NAME, command, { timeoutMs });
  if (r.code !== 0) throw new Error(`lab: ${command}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

/** Puts the lab back as it booted, so other suites find the rules they expect. */
export async function restoreLab(): Promise<void> {
  await lab(
    "lab-traffic stop >/dev/null 2>&1; ipvsadm -C && ipvsadm -R < /usr/local/lib/lab/ipvsadm-rules.txt && echo 0 > /proc/sys/net/ipv4/vs/expire_quiescent_template && echo 0 > /proc/sys/net/ipv4/vs/expire_nodest_conn",
  );
}

/** The lab's IPVS rules as `ipvsadm -Sn` prints them, to put back with restoreRules. */
export async function currentRules(): Promise<string> {
  return lab("ipvsadm -Sn");
}

/**
 * Puts back rules read with currentRules when they differ (reloading resets the counters
 * other suites look at, so only then), and checks the director holds them again.
 */
export async function restoreRules(saved: string): Promise<void> {
  if ((await currentRules()) === saved) return;
  const r = await labExec(LAB_NAME, "ipvsadm -C && ipvsadm -R", { input: saved });
  if (r.code !== 0) throw new Error(`lab: ipvsadm -R: exit ${r.code}\n${r.stderr}`);
  expect(await currentRules()).toBe(saved);
}

/** Every test of the calling file leaves the lab's IPVS rules as it found them, failed or not. */
export function keepLabRules(): void {
  let saved: string | null = null;
  test.beforeEach(async () => {
    saved = await currentRules();
  });
  test.afterEach(async () => {
    if (saved !== null) await restoreRules(saved);
    saved = null;
  });
}

/** `ipvsadm -Sn` lines for one realserver, e.g. ["-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1"]. */
export async function savedRulesFor(realserver: string): Promise<string[]> {
  const out = await currentRules();
  return out.split("\n").filter((l) => l.includes(`-r ${realserver} `));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true });
}

/** The director page once its first poll is on screen. */
export async function openDirector(page: Page, id = LAB): Promise<void> {
  await page.goto(`/directors/${id}`);
  await expect(page.getByRole("table", { name: "Virtual services" })).toBeVisible({
    timeout: 60_000,
  });
}

export function realserverRow(page: Page, service: string, realserver: string) {
  return page.locator(`tr[data-service="${service}"][data-realserver="${realserver}"]`);
}

/** The plan's commands as shown (exact, shell-quoted), with the quotes dropped for matching. */
export async function planCommands(dialog: Locator): Promise<string> {
  const first = dialog.getByTestId("plan-command").first();
  await expect(first).toBeVisible({ timeout: 30_000 });
  return (await dialog.getByTestId("plan-command").allTextContents())
    .map((c) => c.replace(/'/g, ""))
    .join("\n");
}
