/**
 * Access control in a real browser, on a console server of its own (so its stdout and stderr
 * can be read): signing in through the form under the production CSP, a generic error for
 * bad credentials, signing out, and no secret (the lab's private key, password hashes,
 * passwords) in any response the browser receives or in the server's log.
 */
import { testPort } from "../test/support/ports";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { readLabDirector } from "../lab/harness";
import { startConsole, type ConsoleServer } from "../test/integration/auth-server";
import { LAB_NAME } from "./helpers";

const PORT = testPort(3202);
let server: ConsoleServer;
let secrets: Array<{ what: string; value: string }>;

test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  server = await startConsole({ port: PORT, labName: LAB_NAME });
  const key = readFileSync((await readLabDirector(LAB_NAME)).privateKeyPath, "utf8");
  // Each base64 line of the key body is distinctive on its own.
  const keyLines = key
    .split("\n")
    .filter((l) => l.length >= 20 && !l.startsWith("-----"))
    .map((value, i) => ({ what: `private key line ${i + 1}`, value }));
  const hashes = [
    ...readFileSync(server.configPath, "utf8").matchAll(/passwordHash: "([^"]+)"/g),
  ].flatMap((m) => {
    const hash = m[1] ?? "";
    // The whole hash, and its salt and key parts separately.
    return [hash, ...hash.split("$").slice(4)].map((value) => ({ what: "a password hash", value }));
  });
  const passwords = Object.entries(server.passwords).map(([role, value]) => ({
    what: `the ${role} password`,
    value,
  }));
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
  /** Requests still in flight at the end (e.g. a slow streamed RSC prefetch). */
  inFlight: Set<string>;
}

/**
 * Passes every request through Playwright so each response body is read in full before the
 * browser gets it (bodies of responses to a page that has since navigated are otherwise
 * lost). SSE subscriptions stream for ever: they go straight through and are read separately.
 */
async function recordResponses(page: Page): Promise<Recorded> {
  const recorded: Recorded = { bodies: new Map(), streams: new Set(), inFlight: new Set() };
  await page.route("**/*", async (route) => {
    const request = route.request();
    const where = `${request.method()} ${request.url()}`;
    if ((request.headers()["accept"] ?? "").includes("text/event-stream")) {
      recorded.streams.add(request.url());
      await route.continue();
      return;
    }
    recorded.inFlight.add(where);
    try {
      const response = await route.fetch({ maxRedirects: 0 });
      const body = await response.body();
      recorded.bodies.set(where, body.toString("utf8"));
      await route.fulfill({ response, body });
    } catch {
      // the page went away first
    } finally {
      recorded.inFlight.delete(where);
    }
  });
  return recorded;
}

/** A few seconds of an SSE subscription, as the browser would get it. */
async function readStream(url: string, cookie: string): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 4_000);
  let text = "";
  try {
    const res = await fetch(url, {
      headers: { cookie, accept: "text/event-stream" },
      signal: abort.signal,
    });
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
    if (
      msg.type() === "error" &&
      /Content Security Policy|Refused to (execute|load|apply)/i.test(msg.text())
    ) {
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
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText(
    "wrong user name or password",
  );

  await page.getByLabel("User name").fill("no-such-user");
  await page.getByLabel("Password").fill("certainly-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText(
    "wrong user name or password",
  );
  expect((await page.context().cookies()).filter((c) => c.name === "lvs_session")).toEqual([]);
  expect(violations).toEqual([]);
});

test("a session never shows a secret to the browser or the server log", async ({ page }) => {
  test.setTimeout(180_000);
  const violations = watchCsp(page);
  const recorded = await recordResponses(page);

  await page.goto(`${server.url}/login?next=/directors/lab`);
  await page.getByLabel("User name").fill("admin-user");
  await page.getByLabel("Password").fill(server.passwords.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/directors/lab`);
  await expect(page.getByTestId("signed-in-user")).toContainText("admin-user");
  const cookie = (await page.context().cookies()).find((c) => c.name === "lvs_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Strict");
  await expect(page.getByRole("table", { name: "Virtual services" })).toBeVisible({
    timeout: 60_000,
  });

  for (const path of ["/", "/directors/lab/connections", "/audit"]) {
    await page.goto(`${server.url}${path}`);
    await page.waitForTimeout(3_000);
  }
  // Scripts cannot read the session cookie.
  expect(await page.evaluate(() => document.cookie)).not.toContain("lvs_session");

  expect(recorded.bodies.size).toBeGreaterThan(10);
  const found: string[] = [];
  for (const [where, body] of recorded.bodies) found.push(...leaks(body, where));
  const sessionCookie = `lvs_session=${cookie?.value ?? ""}`;
  for (const url of recorded.streams)
    found.push(...leaks(await readStream(url, sessionCookie), `stream ${url}`));
  expect(recorded.streams.size).toBeGreaterThan(0);
  if (recorded.inFlight.size > 0) {
    test.info().annotations.push({
      type: "still loading, not scanned",
      description: [...recorded.inFlight].join("\n"),
    });
  }

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  expect(
    (await page.context().cookies()).filter((c) => c.name === "lvs_session" && c.value !== ""),
  ).toEqual([]);
  await page.goto(`${server.url}/audit`);
  await expect(page).toHaveURL(/\/login/);

  found.push(...leaks(server.output(), "the server's stdout/stderr"));
  expect(found).toEqual([]);
  expect(violations).toEqual([]);
});
