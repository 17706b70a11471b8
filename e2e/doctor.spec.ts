/**
 * The doctor in a real browser: rs2's default gateway moved off the director (lab-fault),
 * some traffic to it, and the Doctor panel names the misrouted realserver, explains why its
 * replies never come back, says what to change on it, and marks its row.
 */
import { expect, test } from "@playwright/test";
import { lab, openDirector, realserverRow, screenshot } from "./helpers";

test.describe.configure({ mode: "serial" });

test.afterAll(async () => {
  await lab(
    "lab-fault gateway rs2 off; lab-traffic probe --vip 203.0.113.10:8080 --from 203.0.113.105 --count 6 >/dev/null; true",
  );
});

test("the doctor shows the misrouted realserver and explains it", async ({ page }) => {
  await lab(
    "lab-fault gateway rs2 on; lab-traffic probe --vip 203.0.113.10:8080 --from 203.0.113.101 --count 6 >/dev/null; true",
  );
  await openDirector(page);
  const panel = page.getByTestId("doctor-panel");
  await expect(panel).toBeVisible();
  await panel.getByRole("button", { name: "Check now" }).click();
  const finding = panel.locator(
    '[data-finding="replies-bypass-director"][data-subject="10.10.0.12:80"]',
  );
  await expect(finding).toBeVisible({ timeout: 30_000 });
  await expect(finding).toContainText("stay in SYN_RECV");
  await expect(finding).toContainText("default gateway is not the director's DIP (10.10.0.1)");
  await expect(finding.getByTestId("realserver-fix")).toContainText(
    "ip route replace default via 10.10.0.1",
  );
  await expect(panel.locator('[data-severity="error"]')).toContainText("replies-bypass-director");
  await finding.getByText("What the doctor saw").click();
  await expect(finding).toContainText("the director connects to 10.10.0.12:80 itself: open");
  await expect(
    realserverRow(page, "TCP 203.0.113.10:8080", "10.10.0.12:80").locator(
      '[data-doctor-marker="replies-bypass-director"]',
    ),
  ).toBeVisible();
  await screenshot(page, "doctor");
});
