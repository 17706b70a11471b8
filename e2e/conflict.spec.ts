import { expect, test } from "@playwright/test";
import {
  keepLabRules,
  lab,
  openDirector,
  planCommands,
  realserverRow,
  savedRulesFor,
} from "./helpers";

const VIP = "203.0.113.10:8080";
const RS = "10.10.0.12:80";

keepLabRules();

async function weightOnDirector(): Promise<number> {
  const line = (await savedRulesFor(RS)).find((l) => l.includes(`-t ${VIP} `)) ?? "";
  const m = / -w (\d+)\b/.exec(line);
  if (!m?.[1]) throw new Error(`no weight for ${RS} in ${VIP}: ${line}`);
  return Number(m[1]);
}

test("a change made behind the console's back is a conflict: shown, and nothing applied", async ({
  page,
}) => {
  const before = await weightOnDirector();
  const mine = before + 3;
  const theirs = before + 1;

  await openDirector(page);
  const input = realserverRow(page, `TCP ${VIP}`, RS).getByRole("textbox", {
    name: `Weight of ${RS} in TCP ${VIP}`,
  });
  await input.fill(String(mine));
  await input.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Set weight of ${RS} in TCP ${VIP} to ${mine}` });
  expect(await planCommands(dialog)).toBe(
    `env LC_ALL=C ipvsadm -e -t ${VIP} -r ${RS} -m -w ${mine} -x 0 -y 0`,
  );

  // Someone else, straight on the director, while the operator looks at the plan.
  await lab(`ipvsadm -e -t ${VIP} -r ${RS} -m -w ${theirs}`);
  await dialog.getByTestId("apply-change").click();

  const conflict = page.getByRole("dialog", { name: "The rules changed since you looked" });
  await expect(conflict).toBeVisible({ timeout: 30_000 });
  await expect(conflict.getByRole("list", { name: "What changed" })).toContainText(
    `TCP ${VIP}: ${RS} weight ${before} -> ${theirs}`,
  );
  await expect(conflict).toContainText("Nothing was applied");
  expect(await weightOnDirector()).toBe(theirs);

  // Reviewing again plans against the rules the director has now.
  await conflict.getByRole("button", { name: "Review again" }).click();
  await expect(conflict).toBeHidden();
  expect(await planCommands(dialog)).toBe(
    `env LC_ALL=C ipvsadm -e -t ${VIP} -r ${RS} -m -w ${mine} -x 0 -y 0`,
  );
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect(await weightOnDirector()).toBe(theirs);
});
