import { expect, test } from "@playwright/test";
import { keepLabRules, lab, openDirector, planCommands } from "./helpers";

const VIP = "203.0.113.12:8443";
const SVC = `TCP ${VIP}`;

keepLabRules();

/** The service's line of `ipvsadm -Ln`, e.g. "TCP 203.0.113.12:8443 rr", or "" when it is gone. */
async function serviceLine(): Promise<string> {
  const out = await lab(`ipvsadm -Ln -t ${VIP} 2>/dev/null || true`);
  return (out.split("\n").find((l) => l.startsWith("TCP ")) ?? "").replace(/\s+/g, " ").trim();
}

test("add, edit and delete a virtual service", async ({ page }) => {
  expect(await serviceLine()).toBe("");
  await openDirector(page);
  const row = page.locator(`[data-service="${SVC}"]:not([data-realserver])`);

  await page.getByRole("button", { name: "Add virtual service" }).click();
  const form = page.getByRole("dialog", { name: "Add virtual service" });
  await form.getByLabel("Virtual IP").fill("203.0.113.12");
  await form.getByLabel("Port", { exact: true }).fill("8443");
  await form.getByLabel("Scheduler", { exact: true }).selectOption("rr");
  await form.getByRole("button", { name: "Review commands" }).click();
  const add = page.getByRole("dialog", { name: "Add virtual service" });
  expect(await planCommands(add)).toBe(`env LC_ALL=C ipvsadm -A -t ${VIP} -s rr`);
  await add.getByTestId("apply-change").click();
  await expect(add).toBeHidden({ timeout: 30_000 });
  expect(await serviceLine()).toBe(`TCP ${VIP} rr`);
  await expect(row).toBeVisible({ timeout: 15_000 });

  await row.getByRole("button", { name: `Edit ${SVC}`, exact: true }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${SVC}` });
  await expect(edit.getByLabel("Virtual IP")).toBeDisabled();
  await edit.getByLabel("Scheduler", { exact: true }).selectOption("wrr");
  await edit.getByLabel("persistent (-p)").check();
  await edit.getByLabel("Persistence timeout (s)").fill("600");
  await edit.getByRole("button", { name: "Review commands" }).click();
  const plan = page.getByRole("dialog", { name: "Edit virtual service" });
  expect(await planCommands(plan)).toBe(`env LC_ALL=C ipvsadm -E -t ${VIP} -s wrr -p 600`);
  await plan.getByTestId("apply-change").click();
  await expect(plan).toBeHidden({ timeout: 30_000 });
  expect(await serviceLine()).toBe(`TCP ${VIP} wrr persistent 600`);
  await expect(row.getByRole("cell", { name: "wrr", exact: true })).toBeVisible({
    timeout: 15_000,
  });
  await expect(row.getByRole("cell", { name: "600 s", exact: true })).toBeVisible();

  await row.getByRole("button", { name: `Delete ${SVC}` }).click();
  const del = page.getByRole("dialog", { name: `Delete ${SVC}` });
  expect(await planCommands(del)).toBe(`env LC_ALL=C ipvsadm -D -t ${VIP}`);
  await del.getByTestId("apply-change").click();
  await expect(del).toBeHidden({ timeout: 30_000 });
  expect(await serviceLine()).toBe("");
  await expect(row).toBeHidden({ timeout: 15_000 });
});
