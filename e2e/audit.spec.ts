import { expect, test, type Page } from "@playwright/test";
import { keepLabRules, openDirector, realserverRow, screenshot } from "./helpers";

const SVC = "TCP 203.0.113.10:8080";
// Its own realserver, so the audit entries are this file's whatever ran before it.
const RS = "10.10.0.15";

keepLabRules();

/** Adds RS to SVC and removes it again through the UI: two audit entries with commands. */
async function addAndRemove(page: Page): Promise<void> {
  await openDirector(page);
  await page.getByRole("button", { name: `Add realserver to ${SVC}` }).click();
  const form = page.getByRole("dialog", { name: "Add realserver" });
  await form.getByLabel("Address").fill(RS);
  await form.getByLabel("Port").fill("80");
  await form.getByLabel("Weight").fill("1");
  await form.getByRole("button", { name: "Review commands" }).click();
  const plan = page.getByRole("dialog", { name: new RegExp(`Add realserver ${RS}:80`) });
  await plan.getByTestId("apply-change").click();
  await expect(plan).toBeHidden({ timeout: 30_000 });
  const row = realserverRow(page, SVC, `${RS}:80`);
  await expect(row).toBeVisible({ timeout: 15_000 });
  await row.getByRole("button", { name: /^Remove / }).click();
  const remove = page.getByRole("dialog", { name: new RegExp(`Remove ${RS}:80`) });
  await remove.getByTestId("apply-change").click();
  await expect(remove).toBeHidden({ timeout: 30_000 });
}

test("audit log lists the changes with their exact commands and results", async ({ page }) => {
  await addAndRemove(page);
  await page.goto("/audit");
  const rows = page.locator("tr[data-audit-id]");
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  await page.getByLabel(/^Text/).fill(RS);
  await expect(rows.first()).toContainText(RS);
  await rows
    .first()
    .getByRole("button", { name: /Show commands/ })
    .click();
  await expect(
    page
      .getByText(
        new RegExp(`ipvsadm -[ad] -t 203\\.0\\.113\\.10:8080 -r ${RS.replaceAll(".", "\\.")}:80`),
      )
      .first(),
  ).toBeVisible();
  await expect(page.getByText("exit 0").first()).toBeVisible();
  await page.getByLabel(/^Text/).fill("");
  await screenshot(page, "audit");
});
