import { expect, test } from "@playwright/test";
import { labExec } from "../lab/harness";
import { HA_LAB_NAME, screenshot } from "./helpers";

const A = `${HA_LAB_NAME}-a`;
const B = `${HA_LAB_NAME}-b`;

async function onHa(name: string, command: string): Promise<void> {
  const r = await labExec(name, command, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${name}: ${command}: exit ${r.code}\n${r.stderr}`);
}

test("the fleet shows the HA pair's active director, and it moves on failover", async ({
  page,
}) => {
  await page.goto("/");
  const cluster = page.locator('section[data-cluster="ha"]');
  const active = cluster.getByTestId("cluster-active-director");
  await expect(active).toHaveAttribute("data-director", A, { timeout: 60_000 });
  await expect(active).toHaveText(`active: ${A}`);
  const rowA = cluster.locator(`tr[data-director="${A}"]`);
  const rowB = cluster.locator(`tr[data-director="${B}"]`);
  await expect(rowA.getByTestId("director-role")).toHaveAttribute("data-role", "MASTER");
  await expect(rowB.getByTestId("director-role")).toHaveAttribute("data-role", "BACKUP");
  await expect(rowA.getByTestId("director-owner")).toHaveText("keepalived v2.2.7");
  await expect(rowB.getByTestId("director-drift")).toHaveText("no drift");
  await screenshot(page, "ha-fleet");

  await onHa(A, "lab-keepalived stop");
  try {
    await expect(active).toHaveAttribute("data-director", B, { timeout: 30_000 });
    await expect(rowB.getByTestId("director-role")).toHaveAttribute("data-role", "MASTER");
    // keepalived stopped on A: its rules now come from the boot rules file only.
    await expect(rowA.getByTestId("director-owner")).toHaveAttribute("data-owner", "rules-file");
  } finally {
    await onHa(A, "lab-keepalived start");
  }
  await expect(active).toHaveAttribute("data-director", A, { timeout: 30_000 });
});
