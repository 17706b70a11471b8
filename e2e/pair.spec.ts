import { expect, test } from "@playwright/test";
import { labExec } from "../lab/harness";
import { HA_LAB_NAME, openDirector, screenshot } from "./helpers";

const A = `${HA_LAB_NAME}-a`;
const B = `${HA_LAB_NAME}-b`;
const SERVICE = "TCP 203.0.113.11:9090";
const APP = "/etc/keepalived/conf.d/app.conf";
const line = (w: number) => `-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w ${w}`;

async function onHa(name: string, command: string): Promise<string> {
  const r = await labExec(name, command, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${name}: ${command}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

/** Waits in one ssh call (kernel polled every 100 ms) until the line is there. */
async function kernelHas(name: string, want: string): Promise<void> {
  await onHa(
    name,
    `i=0; until ipvsadm-save -n | grep -qxF -- '${want}'; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done`,
  );
}

test.afterAll(async () => {
  // B's own weight back whatever happened (the lab's config says 2).
  await onHa(B, `sed -i 's/^        weight 4$/        weight 2/' ${APP} && lab-keepalived reload`);
});

test("the pair's diff per rule and block, then make B like A with the file diff", async ({
  page,
}) => {
  test.setTimeout(4 * 60_000);
  await onHa(B, `sed -i 's/^        weight 2$/        weight 4/' ${APP} && lab-keepalived reload`);
  await kernelHas(B, line(4));

  await openDirector(page, A);
  const panel = page.getByTestId("pair-panel");
  await expect(panel.getByTestId("pair-state")).toHaveText(`${A} and ${B} differ: 2`, {
    timeout: 60_000,
  });
  const row = panel.locator(`[data-pair-rule^="${SERVICE} 10.10.0.12:80: weight"]`);
  await expect(row).toContainText("weight");
  await expect(row).toContainText("2");
  await expect(row).toContainText("4");
  await expect(panel.locator(`[data-pair-block="${SERVICE}"]`)).toHaveAttribute(
    "data-status",
    "differs",
  );
  await screenshot(page, "pair-diff");

  await panel.getByTestId("pair-make-b").click();
  const dialog = page.getByRole("dialog", { name: `Make ${B} like ${A}` });
  const diff = dialog.getByTestId("owner-action-diff");
  await expect(diff).toContainText("-        weight 4", { timeout: 30_000 });
  await expect(diff).toContainText("+        weight 2");
  await expect(dialog.getByTestId("owner-action-steps")).toContainText(
    `edit ${APP} line 19, check the config, reload keepalived`,
  );
  await screenshot(page, "pair-make-b-plan");
  await dialog.getByTestId("owner-action-apply").click();
  await expect(dialog.getByTestId("owner-action-result")).toHaveText(
    `${B} now matches ${A} (read back on both)`,
    { timeout: 60_000 },
  );
  await kernelHas(B, line(2));
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await expect(panel.getByTestId("pair-state")).toHaveText(`${A} and ${B} hold the same rules`, {
    timeout: 60_000,
  });
});
