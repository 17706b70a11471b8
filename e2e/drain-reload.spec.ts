import { expect, test, type Page } from "@playwright/test";
import { lab, openDirector, realserverRow, restoreLab, savedRulesFor } from "./helpers";

const RS = "10.10.0.13:80";
const SERVICE = "TCP 203.0.113.10:80";

test.afterAll(async () => {
  await restoreLab();
});

/** The drain chart's figure: how many points it draws, its first time and the weight marks. */
async function curve(page: Page) {
  const chart = page.locator(
    'figure[data-chart="Connections to the drained realserver over time"]',
  );
  await expect(chart).toBeVisible();
  return {
    points: Number(await chart.getAttribute("data-points")),
    firstAt: Number(await chart.getAttribute("data-first-at")),
    marks: ((await chart.getAttribute("data-marks")) ?? "").split(",").filter(Boolean).map(Number),
  };
}

test("a drain page reloaded mid-drain still shows its whole curve", async ({ page }) => {
  test.setTimeout(5 * 60_000);
  await restoreLab();
  const before = await savedRulesFor(RS);
  // Connections held open on the realserver, so the drain lasts past the reload.
  await lab("lab-traffic hold --vip 203.0.113.10:80 --count 10 --seconds 90");

  await openDirector(page);
  await realserverRow(page, SERVICE, RS)
    .getByRole("button", { name: `Drain ${RS}` })
    .click();
  const dialog = page.getByRole("dialog", { name: `Drain ${RS}` });
  const warning = dialog.locator('[data-warning="persistence-keeps-clients"]');
  if (await warning.isVisible()) await warning.getByRole("checkbox").check();
  await dialog.getByTestId("apply-change").click();
  await page.waitForURL(/\/drains\/\d+$/, { timeout: 60_000 });

  // Some polls into the drain, from before its start (the level it fell from) on.
  await expect.poll(async () => (await curve(page)).points, { timeout: 60_000 }).toBeGreaterThan(8);
  const seen = await curve(page);
  expect(seen.marks).toHaveLength(1);
  expect(seen.firstAt).toBeLessThan(seen.marks[0] ?? 0);

  await page.reload();
  await expect(page.getByRole("progressbar", { name: "Drain progress" })).toBeVisible();
  // From the history alone: the same start, every point seen before the reload, the mark.
  await expect
    .poll(async () => (await curve(page)).points, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(seen.points);
  const reloaded = await curve(page);
  expect(reloaded.firstAt).toBe(seen.firstAt);
  expect(reloaded.marks).toEqual(seen.marks);
  await expect(
    page.getByRole("img", { name: "Connections to the drained realserver over time" }),
  ).toBeVisible();

  await page.getByRole("button", { name: "Undrain" }).click();
  const undrain = page.getByRole("dialog", { name: /Undrain/ });
  await undrain.getByTestId("apply-change").click();
  await expect(page.locator("[data-drain-state=undrained]")).toBeVisible({ timeout: 30_000 });
  expect(await savedRulesFor(RS)).toEqual(before);
  await lab("lab-traffic stop");
});
