/**
 * Access control in a real browser, on a console server of its own (so its stdout and stderr
 * can be read): signing in through the form under the production CSP, a generic error for
 * bad credentials, signing out, and no secret (the lab's private key, password hashes,
 * passwords) in any response the browser receives or in the server's log.
 */
import { readFileSync } from "node:fs";
import { expect, test, type Page, type Response } from "@playwright/test";
import { readLabDirector } from "../lab/harness";
import { startConsole, type ConsoleServer } from "../test/integration/auth-server";
import { LAB } from "./helpers";

const PORT = 3202;
let server: ConsoleServer;
let secrets: Array<{ what: string; value: string }>;

test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  server = await startConsole({ port: PORT, labName: LAB });
  const key = readFileSync((await readLabDirector(LAB)).privateKeyPath, "utf8");
  // Each base64 line of the key body is distinctive on its own.
  const keyLines = key
    .split("\n")
    .filter((l) => l.length >= 20 && !l.startsWith("-----"))
    .map((value, i) => ({ what: `private key line ${i + 1}`, value }));
  const hashes = [...readFileSync(server.configPath, "utf8").matchAll(/passwordHash: "([^"]+)"/g)].flatMap((m) => {
    const hash = m[1] ?? "";
    // The whole hash, and its salt and key parts separately.
    return [hash, ...hash.split("$").slice(4)].map((value) => ({ what: "a password hash", value }));
  });
  const passwords = Object.entries(server.passwords).map(([role, value]) => ({ what: `the ${role} password`, value }));
  secrets = [...keyLines, ...hashes, ...passwords];
  expect(keyLines.length).toBeGreaterThan(0);
  expect(hashes.length).toBe(9);
});

test.afterAll(async () => {
  await server?.stop();
});

function leaks(text: string, where: string): string[] {
  return secrets.filter((s) => text.includes(s.value)).map((s) => `${s.what} in ${where}`);
}

interface Recorded {
  bodies: Map<string, string>;
  streams: Set<string>;
  /** Streamed responses still open after the wait (e.g. a slow RSC prefetch). */
  unfinished: string[];
  done: () => Promise<void>;
}

/** Collects every response body the page receives; SSE streams are read separately. */
function recordResponses(page: Page): Recorded {
  const recorded: Recorded = { bodies: new Map(), streams: new Set(), unfinished: [], done: async () => {} };
  const pending: Array<Promise<void>> = [];
  page.on("response", (res: Response) => {
    const type = res.headers()["content-type"] ?? "";
    if (type.includes("text/event-stream")) {
      recorded.streams.add(res.url());
      return;
    }
    const where = `${res.request().method()} ${res.url()}`;
    const body = res
      .body()
      .then((b) => void recorded.bodies.set(where, b.toString("utf8")))
      .catch(() => undefined); // redirects and aborted requests have no body
    const timeout = new Promise<void>((r) => setTimeout(r, 15_000)).then(() => {
      if (!recorded.bodies.has(where)) recorded.unfinished.push(where);
    });
    pending.push(Promise.race([body, timeout]));
  });
  recorded.done = async () => void (await Promise.all(pending));
  return recorded;
}

/** A few seconds of an SSE subscription, as the browser would get it. */
async function readStream(url: string, cookie: string): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 4_000);
  let text = "";
  try {
    const res = await fetch(url, { headers: { cookie, accept: "text/event-stream" }, signal: abort.signal });
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } catch {
    // aborted after the time window: what arrived is in `text`
  } finally {
    clearTimeout(timer);
  }
  return text;
}

function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to (execute|load|apply)/i.test(msg.text())) {
      violations.push(msg.text());
    }
  });
  page.on("pageerror", (e) => violations.push(`page error: ${e.message}`));
  return violations;
}

test("a wrong password gets one generic message and no session", async ({ page }) => {
  const violations = watchCsp(page);
  await page.goto(`${server.url}/directors/lab`);
  await expect(page).toHaveURL(/\/login\?next=%2Fdirectors%2Flab$/);
  await expect(page.getByRole("heading", { name: "Sign in to LVS Console" })).toBeVisible();

  await page.getByLabel("User name").fill("operator-user");
  await page.getByLabel("Password").fill("certainly-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText("wrong user name or password");

  await page.getByLabel("User name").fill("no-such-user");
  await page.getByLabel("Password").fill("certainly-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText("wrong user name or password");
  expect((await page.context().cookies()).filter((c) => c.name === "lvs_session")).toEqual([]);
  expect(violations).toEqual([]);
});

test("a session never shows a secret to the browser or the server log", async ({ page }) => {
  test.setTimeout(180_000);
  const violations = watchCsp(page);
  const recorded = recordResponses(page);

  await page.goto(`${server.url}/login?next=/directors/lab`);
  await page.getByLabel("User name").fill("admin-user");
  await page.getByLabel("Password").fill(server.passwords.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/directors/lab`);
  await expect(page.getByTestId("signed-in-user")).toContainText("admin-user");
  const cookie = (await page.context().cookies()).find((c) => c.name === "lvs_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Strict");
  await expect(page.getByRole("table", { name: "Virtual services" })).toBeVisible({ timeout: 60_000 });

  for (const path of ["/", "/directors/lab/connections", "/audit"]) {
    await page.goto(`${server.url}${path}`);
    await page.waitForTimeout(3_000);
  }
  // Scripts cannot read the session cookie.
  expect(await page.evaluate(() => document.cookie)).not.toContain("lvs_session");

  await recorded.done();
  expect(recorded.bodies.size).toBeGreaterThan(10);
  const found: string[] = [];
  for (const [where, body] of recorded.bodies) found.push(...leaks(body, where));
  const sessionCookie = `lvs_session=${cookie?.value ?? ""}`;
  for (const url of recorded.streams) found.push(...leaks(await readStream(url, sessionCookie), `stream ${url}`));
  expect(recorded.streams.size).toBeGreaterThan(0);
  if (recorded.unfinished.length > 0) {
    test.info().annotations.push({ type: "unread", description: recorded.unfinished.join("\n") });
  }
  expect(recorded.unfinished.length).toBeLessThan(recorded.bodies.size / 4);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  expect((await page.context().cookies()).filter((c) => c.name === "lvs_session" && c.value !== "")).toEqual([]);
  await page.goto(`${server.url}/audit`);
  await expect(page).toHaveURL(/\/login/);

  found.push(...leaks(server.output(), "the server's stdout/stderr"));
  expect(found).toEqual([]);
  expect(violations).toEqual([]);
});
