import { expect, test, type Request } from "@playwright/test";
import {
  lab,
  openDirector,
  planCommands,
  realserverRow,
  restoreLab,
  savedRulesFor,
  screenshot,
} from "./helpers";

const SVC = "TCP 203.0.113.10:8080";

test.describe.configure({ mode: "serial" });

test.afterAll(async () => {
  await restoreLab();
});

test("director page lists services and realservers", async ({ page }) => {
  await openDirector(page);
  await expect(
    page.locator(`[data-service="TCP 203.0.113.10:80"]:not([data-realserver])`),
  ).toBeVisible();
  await expect(realserverRow(page, "TCP 203.0.113.10:80", "10.10.0.11:80")).toBeVisible();
  await expect(page.locator('[data-live-state="live"]')).toBeVisible();
  await screenshot(page, "director");
});

test("inline weight edit shows the command, applies it, and the director has it", async ({
  page,
}) => {
  await openDirector(page);
  const row = realserverRow(page, SVC, "10.10.0.12:80");
  const input = row.getByRole("textbox", { name: /Weight of 10\.10\.0\.12:80/ });
  await input.fill("7");
  await input.press("Enter");
  const dialog = page.getByRole("dialog");
  expect(await planCommands(dialog)).toMatch(
    /ipvsadm -e -t 203\.0\.113\.10:8080 -r 10\.10\.0\.12:80 -m -w 7\b/,
  );
  await dialog.getByTestId("apply-change").click();
  await expect(page.getByRole("status").filter({ hasText: "applied" }).first()).toBeVisible({
    timeout: 30_000,
  });
  await expect(dialog).toBeHidden();
  expect(
    (await savedRulesFor("10.10.0.12:80")).find((l) => l.includes("203.0.113.10:8080")),
  ).toMatch(/-m -w 7\b/);
  await expect(row.getByRole("textbox", { name: /Weight of/ })).toHaveValue("7", {
    timeout: 15_000,
  });
});

test("invalid input shows errors and sends nothing", async ({ page }) => {
  await openDirector(page);
  const sent: Request[] = [];
  page.on("request", (r) => {
    const url = r.url();
    if (
      url.includes("/api/trpc/") &&
      (r.method() === "POST" || /changes\.|drains\.(preview|start)/.test(url))
    )
      sent.push(r);
  });

  const weight = realserverRow(page, SVC, "10.10.0.11:80").getByRole("textbox", {
    name: /Weight of/,
  });
  await weight.fill("-3");
  await expect(weight).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/a weight is a whole number from 0 to 2147483647/)).toBeVisible();
  await weight.press("Enter");
  await expect(page.getByRole("dialog")).toBeHidden();
  await weight.press("Escape");

  await page.getByRole("button", { name: `Add realserver to ${SVC}` }).click();
  const dialog = page.getByRole("dialog", { name: "Add realserver" });
  await dialog.getByLabel("Address").fill("10.10.0.999");
  await dialog.getByLabel("Port").fill("70000");
  await dialog.getByLabel("Weight").fill("abc");
  await expect(dialog.getByLabel("Address")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.getByText(/is not an IPv4 or IPv6 address/)).toBeVisible();
  await expect(dialog.getByText(/a port is a whole number from \d to 65535/)).toBeVisible();
  await expect(dialog.getByText(/a weight is a whole number/)).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Review commands" })).toBeDisabled();
  await dialog.getByLabel("Weight").press("Enter");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await page.waitForTimeout(500);
  expect(sent.map((r) => r.url())).toEqual([]);
});

test("add and remove a realserver", async ({ page }) => {
  await openDirector(page);
  await page.getByRole("button", { name: `Add realserver to ${SVC}` }).click();
  const form = page.getByRole("dialog", { name: "Add realserver" });
  await form.getByLabel("Address").fill("10.10.0.14");
  await form.getByLabel("Port").fill("80");
  await form.getByLabel("Weight").fill("2");
  await form.getByRole("button", { name: "Review commands" }).click();
  const plan = page.getByRole("dialog", { name: /Add realserver 10\.10\.0\.14:80/ });
  expect(await planCommands(plan)).toContain(
    "ipvsadm -a -t 203.0.113.10:8080 -r 10.10.0.14:80 -m -w 2",
  );
  await plan.getByTestId("apply-change").click();
  await expect(plan).toBeHidden({ timeout: 30_000 });
  expect(await savedRulesFor("10.10.0.14:80")).toEqual([
    "-a -t 203.0.113.10:8080 -r 10.10.0.14:80 -m -w 2",
  ]);
  const row = realserverRow(page, SVC, "10.10.0.14:80");
  await expect(row).toBeVisible({ timeout: 15_000 });

  await row.getByRole("button", { name: /^Remove / }).click();
  const remove = page.getByRole("dialog", { name: /Remove 10\.10\.0\.14:80/ });
  expect(await planCommands(remove)).toContain("ipvsadm -d -t 203.0.113.10:8080 -r 10.10.0.14:80");
  await remove.getByTestId("apply-change").click();
  await expect(remove).toBeHidden({ timeout: 30_000 });
  expect(await savedRulesFor("10.10.0.14:80")).toEqual([]);
  await expect(row).toBeHidden({ timeout: 15_000 });
  // The lab is restored by afterAll; this keeps the next assertion honest meanwhile.
  expect(await lab("ipvsadm -Sn | grep -c 10.10.0.14:80 || true")).toMatch(/^0\s*$/);
});
