import { expect, test } from "@playwright/test";
import { screenshot } from "./helpers";

test("audit log lists the changes with their exact commands and results", async ({ page }) => {
  await page.goto("/audit");
  const rows = page.locator("tr[data-audit-id]");
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  await page.getByLabel(/^Text/).fill("10.10.0.14");
  await expect(rows.first()).toContainText("10.10.0.14");
  // Changes made outside the console (the tests' own restores over ssh) have no commands.
  await rows
    .filter({ has: page.getByRole("button", { name: /Show commands/ }) })
    .first()
    .getByRole("button", { name: /Show commands/ })
    .click();
  await expect(
    page.getByText(/ipvsadm -[ad] -t 203\.0\.113\.10:8080 -r 10\.10\.0\.14:80/).first(),
  ).toBeVisible();
  await expect(page.getByText("exit 0").first()).toBeVisible();
  await page.getByLabel(/^Text/).fill("");
  await screenshot(page, "audit");
});
