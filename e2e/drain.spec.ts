import { expect, test } from "@playwright/test";
import {
  lab,
  openDirector,
  planCommands,
  realserverRow,
  restoreLab,
  savedRulesFor,
  screenshot,
} from "./helpers";

const RS = "10.10.0.11:80";

test.afterAll(async () => {
  await restoreLab();
});

test("drain a realserver with persistent clients, watch it empty, undrain it", async ({ page }) => {
  test.setTimeout(15 * 60_000);
  await restoreLab();
  const before = await savedRulesFor(RS);
  const thresholdsBefore = await lab(`ipvsadm -Ln --thresholds | grep '${RS}'`);
  expect(before.length).toBeGreaterThan(0);

  // Persistent clients pinned to every realserver, with connections held open for a while.
  for (const c of ["203.0.113.100", "203.0.113.102", "203.0.113.104", "203.0.113.108"]) {
    await lab(`lab-traffic hold --vip 203.0.113.10:80 --count 2 --seconds 25 --from ${c}`);
  }

  await openDirector(page);
  await realserverRow(page, "TCP 203.0.113.10:80", RS)
    .getByRole("button", { name: `Drain ${RS}` })
    .click();
  const dialog = page.getByRole("dialog", { name: `Drain ${RS}` });
  const text = await planCommands(dialog);
  expect(text).toContain("-t 203.0.113.10:80 -r 10.10.0.11:80");
  expect(text).toContain("-w 0");
  const warning = dialog.locator('[data-warning="persistence-keeps-clients"]');
  await expect(warning).toBeVisible();
  await warning.getByRole("checkbox").check();
  await screenshot(page, "drain-confirm");
  await dialog.getByTestId("apply-change").click();

  await page.waitForURL(/\/drains\/\d+$/, { timeout: 60_000 });
  await expect(page.getByRole("progressbar", { name: "Drain progress" })).toBeVisible();

  // Over SSH: weight 0 everywhere it served, forwarding method and thresholds untouched.
  const during = await savedRulesFor(RS);
  expect(during.length).toBe(before.length);
  for (const [i, line] of during.entries()) {
    expect(line).toBe(before[i]?.replace(/-w \d+/, "-w 0"));
  }
  expect(await lab("cat /proc/sys/net/ipv4/vs/expire_quiescent_template")).toMatch(/^1\s*$/);
  const thresholdsDuring = await lab(`ipvsadm -Ln --thresholds | grep '${RS}'`);
  // "-> ADDR:PORT Uthreshold Lthreshold ActiveConn InActConn": compare all but the counts.
  const thresholdCols = (s: string) =>
    s
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => l.trim().split(/\s+/).slice(0, 4).join(" "));
  expect(thresholdCols(thresholdsDuring)).toEqual(thresholdCols(thresholdsBefore));

  // New connections avoid it, pinned clients included.
  await expect
    .poll(
      async () => (await labExecProbe()).filter((l) => / (rs1|10\.10\.0\.11)\S*$/.test(l)).length,
      { timeout: 60_000, intervals: [2_000] },
    )
    .toBe(0);

  await screenshot(page, "drain-progress");
  await expect(page.getByTestId("safe-to-remove")).toBeVisible({ timeout: 10 * 60_000 });
  await expect(page.getByTestId("drain-active")).toHaveText("0");
  await expect(page.getByTestId("drain-persistent")).toHaveText("0");
  await screenshot(page, "drain-done");

  await page.getByRole("button", { name: "Undrain" }).click();
  const undrain = page.getByRole("dialog", { name: /Undrain/ });
  await expect(undrain.getByTestId("plan-command").first()).toBeVisible({ timeout: 30_000 });
  await undrain.getByTestId("apply-change").click();
  await expect(undrain).toBeHidden({ timeout: 30_000 });
  await expect(page.locator("[data-drain-state=undrained]")).toBeVisible({ timeout: 15_000 });
  expect(await savedRulesFor(RS)).toEqual(before);
});

async function labExecProbe(): Promise<string[]> {
  const out = await lab("lab-traffic probe --vip 203.0.113.10:80 --all-clients || true");
  return out.split("\n").filter(Boolean);
}
