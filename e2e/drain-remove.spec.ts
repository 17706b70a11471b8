import { expect, test } from "@playwright/test";
import {
  keepLabRules,
  lab,
  openDirector,
  planCommands,
  realserverRow,
  savedRulesFor,
} from "./helpers";

// A member of its own on a service without traffic: nothing to wait for, it drains at once.
const VIP = "203.0.113.10:8080";
const RS = "10.10.0.16:80";

keepLabRules();

test("drain a realserver without connections, then remove it", async ({ page }) => {
  expect(await savedRulesFor(RS)).toEqual([]);
  await lab(`ipvsadm -a -t ${VIP} -r ${RS} -m -w 1`);

  await openDirector(page);
  await realserverRow(page, `TCP ${VIP}`, RS)
    .getByRole("button", { name: `Drain ${RS}` })
    .click();
  const dialog = page.getByRole("dialog", { name: `Drain ${RS}` });
  expect(await planCommands(dialog)).toBe(
    `env LC_ALL=C ipvsadm -e -t ${VIP} -r ${RS} -m -w 0 -x 0 -y 0`,
  );
  await dialog.getByTestId("apply-change").click();
  await page.waitForURL(/\/drains\/\d+$/, { timeout: 60_000 });
  expect(await savedRulesFor(RS)).toEqual([`-a -t ${VIP} -r ${RS} -m -w 0`]);

  await expect(page.getByTestId("safe-to-remove")).toBeVisible({ timeout: 60_000 });
  await page.getByRole("button", { name: "Remove", exact: true }).click();
  const remove = page.getByRole("dialog", { name: `Remove ${RS}` });
  expect(await planCommands(remove)).toBe(`env LC_ALL=C ipvsadm -d -t ${VIP} -r ${RS}`);
  await remove.getByTestId("apply-change").click();
  await expect(remove).toBeHidden({ timeout: 30_000 });
  expect(await savedRulesFor(RS)).toEqual([]);
  await expect(page.locator("[data-drain-state=removed]")).toBeVisible({ timeout: 15_000 });
});
