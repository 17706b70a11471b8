import { expect, test } from "@playwright/test";
import { readLabDirector } from "../lab/harness";
import { LAB_NAME, UNKNOWN_KEY_DIRECTOR } from "./helpers";

test("a director with an unknown host key becomes live once an admin trusts its key", async ({
  page,
}) => {
  // The lab's own key, as `lab.sh up` read it from the guest (.lab/run/NAME/director.json).
  const { hostKeyFingerprint } = await readLabDirector(LAB_NAME);

  await page.goto(`/directors/${UNKNOWN_KEY_DIRECTOR}`);
  await expect(page.locator('[data-error-code="HOST_KEY_UNKNOWN"]')).toBeVisible({
    timeout: 60_000,
  });
  await expect(page.getByRole("table", { name: "Virtual services" })).toBeHidden();
  await page.getByRole("button", { name: "Review host key…" }).click();
  const dialog = page.getByRole("dialog", { name: `Unknown host key for ${UNKNOWN_KEY_DIRECTOR}` });
  await expect(dialog.getByTestId("fingerprint")).toHaveText(hostKeyFingerprint);

  await dialog.getByRole("button", { name: "Trust this key" }).click();
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  await expect(page.getByRole("table", { name: "Virtual services" })).toBeVisible({
    timeout: 60_000,
  });
  await expect(page.locator('[data-error-code="HOST_KEY_UNKNOWN"]')).toBeHidden();
  await expect(
    page.locator('[data-service="TCP 203.0.113.10:80"]:not([data-realserver])'),
  ).toBeVisible();

  await page.goto("/");
  await expect(page.locator(`tr[data-director="${UNKNOWN_KEY_DIRECTOR}"]`)).toHaveAttribute(
    "data-reachability",
    "live",
    { timeout: 60_000 },
  );
});
