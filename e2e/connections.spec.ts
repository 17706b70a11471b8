import { expect, test } from "@playwright/test";
import { lab, screenshot } from "./helpers";

test.afterAll(async () => {
  await lab("lab-traffic stop >/dev/null 2>&1 || true");
});

test("connection table filters, counts per state, pauses on one read and reads again", async ({
  page,
}) => {
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

  // Pause: the view keeps the read it shows while the server reads on for everybody else.
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByRole("button", { name: "Resume" })).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  await expect(page.getByRole("status").filter({ hasText: /paused at/ })).toBeVisible();
  await expect(page.getByRole("button", { name: "Read now" })).toBeDisabled();
  // Two more from the same client; another viewer, not paused, sees them (5)...
  await lab("lab-traffic hold --vip 203.0.113.10:8080 --count 2 --seconds 60 --from 203.0.113.102");
  const other = await page.context().newPage();
  await other.goto("/directors/lab/connections");
  await other.getByLabel("Client (address or prefix)").fill("203.0.113.102");
  await other.getByLabel("State", { exact: true }).selectOption("ESTABLISHED");
  await expect(other.getByTestId("conn-matched")).toHaveText("5", { timeout: 30_000 });
  await other.close();
  // ...while the paused view, asked a new question, answers it from the read it shows: 3.
  const answered = page.waitForResponse(
    (r) =>
      decodeURIComponent(r.url()).includes("connections.list") &&
      decodeURIComponent(r.url()).includes("203.0.113.102/32"),
  );
  await page.getByLabel("Client (address or prefix)").fill("203.0.113.102/32");
  await answered;
  await expect(page.getByTestId("conn-matched")).toHaveText("3");
  await screenshot(page, "connections-filtered");

  // Resume: the latest read.
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.getByTestId("conn-matched")).toHaveText("5", { timeout: 30_000 });
});
