import { expect, test } from "@playwright/test";
import { screenshot } from "./helpers";

test("fleet overview shows the lab director live and the offline one unreachable", async ({
  page,
}) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  const labRow = page.locator('tr[data-director="lab"]');
  await expect(labRow).toHaveAttribute("data-reachability", "live", { timeout: 60_000 });
  await expect(labRow).toContainText(/v1\.\d+/);
  await expect(page.locator('[data-live-state="live"]').first()).toBeVisible();

  const offline = page.locator('tr[data-director="offline-1"]');
  await expect(offline).toHaveAttribute("data-reachability", "unreachable", { timeout: 60_000 });
  await expect(offline.getByText("unreachable", { exact: true })).toBeVisible();
  await expect(
    page.locator('section[data-cluster="offline"]').getByText("1 unreachable"),
  ).toBeVisible();

  // A few pushes so the sparklines have a line to draw.
  await page.waitForTimeout(4_000);
  await screenshot(page, "fleet");
});
