import { expect, test } from "@playwright/test";
import { labExec } from "../lab/harness";
import { HA_LAB_NAME, openDirector, realserverRow, screenshot } from "./helpers";

const A = `${HA_LAB_NAME}-a`;
const B = `${HA_LAB_NAME}-b`;
const SERVICE = "TCP 203.0.113.11:9090";
const RS = "10.10.0.11:80";
const DRAINED = "-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 0";

async function onHa(name: string, command: string): Promise<string> {
  const r = await labExec(name, command, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${name}: ${command}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

/** Waits in one ssh call (kernel polled every 100 ms) until the drained line is there. */
async function drainedOn(name: string): Promise<void> {
  await onHa(
    name,
    `i=0; until ipvsadm-save -n | grep -qxF -- '${DRAINED}'; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done`,
  );
}

test.afterAll(async () => {
  // The lab's own weight back, through the same lasting path (keepalived reloads it).
  for (const d of [A, B]) {
    await onHa(
      d,
      "sed -i 's/^        weight 0$/        weight 3/' /etc/keepalived/conf.d/app.conf",
    );
    await onHa(d, "lab-keepalived reload");
  }
});

test("the ordinary Drain on the HA pair goes through keepalived's config: file diff, drained after a failover", async ({
  page,
}) => {
  test.setTimeout(5 * 60_000);
  await openDirector(page, A);
  await realserverRow(page, SERVICE, RS)
    .getByRole("button", { name: `Drain ${RS}`, exact: true })
    .click();
  const dialog = page.getByRole("dialog", {
    name: `Drain ${RS} in ${SERVICE} in keepalived's config`,
  });
  for (const d of [A, B]) {
    const section = dialog.locator(`[data-testid="lasting-director"][data-director="${d}"]`);
    await expect(section.getByTestId("lasting-steps")).toHaveText(
      "edit /etc/keepalived/conf.d/app.conf line 11, check the config, reload keepalived, wait for the kernel to match",
      { timeout: 30_000 },
    );
    await expect(section.getByTestId("lasting-diff")).toContainText("-        weight 3");
    await expect(section.getByTestId("lasting-diff")).toContainText("+        weight 0");
  }
  await screenshot(page, "ha-drain-plan");
  await dialog.getByTestId("lasting-apply").click();
  const result = dialog.getByTestId("lasting-result");
  await expect(result.locator(`[data-director="${A}"]`)).toHaveAttribute("data-status", "applied", {
    timeout: 60_000,
  });
  await expect(result.locator(`[data-director="${B}"]`)).toHaveAttribute("data-status", "applied");
  await Promise.all([drainedOn(A), drainedOn(B)]);

  // Failover: A's keepalived stops, B carries the traffic and is still drained; A comes back drained.
  await onHa(A, "lab-keepalived stop");
  try {
    await drainedOn(B);
  } finally {
    await onHa(A, "lab-keepalived start");
  }
  await drainedOn(A);
  await openDirector(page, A);
  // Labelled as drained in the config, not as a checker holding it down.
  await expect(realserverRow(page, SERVICE, RS).locator("[data-zero-weight]")).toHaveAttribute(
    "data-zero-weight",
    "drained-in-config",
    { timeout: 30_000 },
  );
  await screenshot(page, "ha-drain-after-failover");
});
