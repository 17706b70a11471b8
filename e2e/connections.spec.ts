import { expect, test } from "@playwright/test";
import { lab, screenshot } from "./helpers";

test.afterAll(async () => {
  await lab("lab-traffic stop >/dev/null 2>&1 || true");
});

test("connection table filters on the director and counts per state", async ({ page }) => {
  // Connections from two clients, held open so they are ESTABLISHED while we look.
  await lab(
    "lab-traffic hold --vip 203.0.113.10:8080 --count 4 --seconds 60 --from 203.0.113.101 && lab-traffic hold --vip 203.0.113.10:8080 --count 3 --seconds 60 --from 203.0.113.102",
  );
  await page.goto("/directors/lab/connections");
  await expect(page.getByTestId("conn-matched")).toBeVisible({ timeout: 60_000 });
  await expect(page.locator("[data-state-count=ESTABLISHED]")).toBeVisible({ timeout: 30_000 });
  await expect(page.locator("[data-conn-row]").first()).toContainText(/TCP|UDP/);
  await screenshot(page, "connections");

  await page.getByLabel("Client (address or prefix)").fill("203.0.113.102");
  await page.getByLabel("State", { exact: true }).selectOption("ESTABLISHED");
  await expect(page.getByTestId("conn-matched")).toHaveText("3", { timeout: 30_000 });
  const rows = page.locator("[data-conn-row]");
  await expect(rows).toHaveCount(3);
  for (const text of await rows.allTextContents()) {
    expect(text).toContain("203.0.113.102:");
    expect(text).toContain("ESTABLISHED");
  }

  // Pause: the table stops polling.
  await page.getByRole("button", { name: "Pause polling" }).click();
  await expect(page.getByRole("button", { name: "Resume polling" })).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  await screenshot(page, "connections-filtered");
});
