/**
 * Access control over real HTTP on a production build: security headers, redirects to the
 * sign-in page, cookies, CSRF refusals, roles, the audit log's user, the trusted-proxy
 * header and X-Forwarded-*, and the sign-in limits (last: they slow down 127.0.0.1 for this
 * server).
 */
import { testPort } from "../support/ports";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PEER_HEADER } from "../../server/auth/http";
import { signIn, startConsole, type ConsoleServer } from "./auth-server";

const PORT = testPort(3201);
let server: ConsoleServer;
const cookies: Record<"viewer" | "operator" | "admin", string> = {
  viewer: "",
  operator: "",
  admin: "",
};

beforeAll(async () => {
  server = await startConsole({ port: PORT, labName: inject("labName") });
  for (const role of ["viewer", "operator", "admin"] as const)
    cookies[role] = await signIn(server, role);
});
afterAll(async () => {
  await server?.stop();
});

function trpcUrl(path: string, input?: unknown): string {
  const q =
    input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  return `${server.url}/api/trpc/${path}${q}`;
}

function mutate(
  path: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(trpcUrl(path), {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url, ...headers },
    body: JSON.stringify({ json: input }),
  });
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { json?: { data?: { code?: string } } } };
  return body.error?.json?.data?.code ?? "none";
}

describe("security headers (production build)", () => {
  it("sends a nonce CSP without unsafe-eval, and the anti-framing and sniffing headers", async () => {
    const res = await fetch(`${server.url}/login`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}' 'strict-dynamic'/);
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    // Every script tag carries this response's nonce; a second response gets another one.
    const html = await res.text();
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const again = await fetch(`${server.url}/login`);
    expect(again.headers.get("content-security-policy")).not.toBe(csp);
  });

  it("puts the static headers on API responses too", async () => {
    const res = await fetch(trpcUrl("health"));
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("signing in and out", () => {
  it("sends anonymous page requests to /login, keeping where they were going", async () => {
    const res = await fetch(`${server.url}/directors/lab?tab=rules`, { redirect: "manual" });
    expect([303, 307]).toContain(res.status);
    const location = new URL(res.headers.get("location") ?? "", server.url);
    expect(location.pathname).toBe("/login");
    expect(location.searchParams.get("next")).toBe("/directors/lab?tab=rules");
    const signedIn = await fetch(`${server.url}/`, {
      headers: { cookie: cookies.viewer },
      redirect: "manual",
    });
    expect(signedIn.status).toBe(200);
  });

  it("refuses anonymous API calls with 401", async () => {
    const res = await fetch(trpcUrl("inventory.list"));
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("UNAUTHORIZED");
  });

  it("sets an httpOnly SameSite=Strict cookie, not Secure on a client's say-so", async () => {
    const plain = await mutate("auth.login", {
      name: "viewer-user",
      password: server.passwords.viewer,
    });
    const cookie = plain.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      /^lvs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    // 127.0.0.1 is no trusted proxy (yet): its X-Forwarded-Proto proves nothing.
    const claimed = await mutate(
      "auth.login",
      { name: "viewer-user", password: server.passwords.viewer },
      { "x-forwarded-proto": "https" },
    );
    expect(claimed.headers.get("set-cookie")).toMatch(/^lvs_session=[^;]+;(?!.*Secure)/);
  });

  it("refuses auth.login batched with other calls, before any password check", async () => {
    const body = JSON.stringify({
      0: { json: { name: "batch-user", password: "guess-0" } },
      1: { json: { name: "batch-user", password: "guess-1" } },
    });
    const res = await fetch(`${server.url}/api/trpc/auth.login,auth.login?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/cannot be batched/);
  });

  it("answers a wrong password and an unknown user the same way", async () => {
    const wrong = await mutate("auth.login", { name: "viewer-user", password: "not-the-password" });
    const unknown = await mutate("auth.login", {
      name: "nobody-here",
      password: "not-the-password",
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (t: string) => t.replace(/"path":"[^"]*"/, "");
    expect(strip(await wrong.text())).toBe(strip(await unknown.text()));
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("ends the session on logout", async () => {
    const cookie = await signIn(server, "viewer");
    const out = await mutate("auth.logout", undefined, { cookie });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    const after = await fetch(trpcUrl("auth.me"), { headers: { cookie } });
    expect(await after.text()).toContain('"user":null');
    expect((await fetch(trpcUrl("inventory.list"), { headers: { cookie } })).status).toBe(401);
  });
});

describe("CSRF", () => {
  it("refuses a cross-origin form post with 403, signed in or not", async () => {
    for (const cookie of ["", cookies.admin]) {
      const res = await fetch(trpcUrl("hostKeys.trust"), {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: "http://evil.example",
          cookie,
        },
        body: "directorId=lab&fingerprint=SHA256%3Aevil",
      });
      expect(res.status).toBe(403);
    }
  });

  it("refuses JSON from another origin, multipart forms and text/plain", async () => {
    const cross = await mutate("auth.logout", undefined, {
      cookie: cookies.admin,
      origin: "http://evil.example",
    });
    expect(cross.status).toBe(403);
    const site = await mutate("auth.logout", undefined, {
      cookie: cookies.admin,
      "sec-fetch-site": "cross-site",
    });
    expect(site.status).toBe(403);
    const form = new FormData();
    form.set("directorId", "lab");
    const multipart = await fetch(trpcUrl("hostKeys.trust"), {
      method: "POST",
      headers: { origin: "http://evil.example", cookie: cookies.admin },
      body: form,
    });
    expect(multipart.status).toBe(403);
    const text = await fetch(trpcUrl("hostKeys.trust"), {
      method: "POST",
      headers: { "content-type": "text/plain", cookie: cookies.admin },
      body: JSON.stringify({ json: { directorId: "lab" } }),
    });
    expect(text.status).toBe(403);
    // The admin is still signed in: none of these reached auth.logout.
    expect(
      await (await fetch(trpcUrl("auth.me"), { headers: { cookie: cookies.admin } })).text(),
    ).toContain("admin-user");
  });
});

describe("roles over HTTP", () => {
  it("gives viewers reads only, operators changes, admins host keys", async () => {
    expect(
      (await fetch(trpcUrl("inventory.list"), { headers: { cookie: cookies.viewer } })).status,
    ).toBe(200);
    const drain = { clusterId: "lab", realserver: { address: "10.10.0.11" }, expectedVersions: {} };
    const viewerDrain = await mutate("drains.start", drain, { cookie: cookies.viewer });
    expect(viewerDrain.status).toBe(403);
    const trust = {
      directorId: "no-such-director",
      fingerprint: `SHA256:${"A".repeat(43)}`,
      replaces: null,
    };
    const operatorTrust = await mutate("hostKeys.trust", trust, { cookie: cookies.operator });
    expect(operatorTrust.status).toBe(403);
    const adminTrust = await mutate("hostKeys.trust", trust, { cookie: cookies.admin });
    expect([401, 403]).not.toContain(adminTrust.status);
  });

  it("records the signed-in user in the audit log for a change attempt", async () => {
    const change = {
      kind: "deleteService",
      service: { kind: "tcp", address: "203.0.113.99", port: 8099 },
    };
    const res = await mutate(
      "changes.commit",
      { clusterId: "lab", change, expectedVersions: { lab: "stale" } },
      {
        cookie: cookies.operator,
      },
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    const list = await fetch(trpcUrl("audit.list", { user: "operator-user" }), {
      headers: { cookie: cookies.viewer },
    });
    const body = (await list.json()) as {
      result: { data: { json: { entries: Array<{ user: string }> } } };
    };
    expect(body.result.data.json.entries.length).toBeGreaterThan(0);
    for (const e of body.result.data.json.entries) expect(e.user).toBe("operator-user");
  });
});

describe("trusted reverse-proxy header", () => {
  const setProxies = (proxies: string[]) => {
    const text = readFileSync(server.configPath, "utf8").replace(/\nauth:[\s\S]*$/, "\n");
    writeFileSync(
      server.configPath,
      `${text}auth:\n  proxyHeader:\n    header: x-remote-user\n    trustedProxies: ${JSON.stringify(proxies)}\n    defaultRole: viewer\n`,
    );
  };
  const me = async (headers: Record<string, string>) =>
    (await (await fetch(trpcUrl("auth.me"), { headers })).json()) as {
      result: {
        data: { json: { user: { name: string; role: string } | null; via: string | null } };
      };
    };

  it("takes the user from the header only when the proxy's address connects", async () => {
    setProxies(["127.0.0.1", "::1"]);
    expect((await me({ "x-remote-user": "admin-user" })).result.data.json).toEqual({
      user: { name: "admin-user", role: "admin" },
      via: "proxy",
    });
    expect((await me({ "x-remote-user": "someone-new" })).result.data.json.user).toEqual({
      name: "someone-new",
      role: "viewer",
    });
    const page = await fetch(`${server.url}/`, {
      headers: { "x-remote-user": "someone-new" },
      redirect: "manual",
    });
    expect(page.status).toBe(200);

    setProxies(["192.0.2.1"]);
    const spoofed = await me({
      "x-remote-user": "admin-user",
      "x-forwarded-for": "192.0.2.1",
      "x-real-ip": "192.0.2.1",
      [PEER_HEADER]: "192.0.2.1",
    });
    expect(spoofed.result.data.json.user).toBeNull();
  });
});

describe("X-Forwarded-* from a trusted proxy, in password mode", () => {
  it("sets a __Host- Secure cookie and records the forwarded client address", async () => {
    const text = readFileSync(server.configPath, "utf8").replace(/\nauth:[\s\S]*$/, "\n");
    writeFileSync(server.configPath, `${text}auth:\n  trustedProxies: ["127.0.0.1", "::1"]\n`);
    const tls = await mutate(
      "auth.login",
      { name: "viewer-user", password: server.passwords.viewer },
      { "x-forwarded-proto": "https", "x-forwarded-for": "6.6.6.6, 198.51.100.23" },
    );
    expect(tls.headers.get("set-cookie")).toMatch(
      /^__Host-lvs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/,
    );
    const token = /__Host-lvs_session=([^;]+)/.exec(tls.headers.get("set-cookie") ?? "")?.[1];
    // Over TLS only the __Host- cookie counts; over plain HTTP only the plain one.
    const meOver = async (cookie: string, proto: string) =>
      (
        await (
          await fetch(trpcUrl("auth.me"), { headers: { cookie, "x-forwarded-proto": proto } })
        ).text()
      ).includes("viewer-user");
    expect(await meOver(`__Host-lvs_session=${token}`, "https")).toBe(true);
    expect(await meOver(`lvs_session=${token}`, "https")).toBe(false);
    expect(await meOver(`__Host-lvs_session=${token}`, "http")).toBe(false);

    await mutate(
      "auth.login",
      { name: "nobody-forwarded", password: "wrong" },
      { "x-forwarded-for": "6.6.6.6, 198.51.100.24" },
    );
    const list = await fetch(trpcUrl("audit.list", { user: "nobody-forwarded" }), {
      headers: { cookie: cookies.viewer },
    });
    const body = (await list.json()) as {
      result: {
        data: {
          json: { entries: Array<{ action: string; result: string; remoteAddress: string }> };
        };
      };
    };
    expect(body.result.data.json.entries).toMatchObject([
      { action: "auth.login", result: "failed", remoteAddress: "198.51.100.24" },
    ]);
  });
});

describe("sign-in limits", () => {
  it("checks one of 10 parallel guesses for a name; the others get 429 unchecked", async () => {
    const statuses = await Promise.all(
      Array.from(
        { length: 10 },
        async (_, i) =>
          (await mutate("auth.login", { name: "parallel-user", password: `guess-${i}` })).status,
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });

  it("locks a name after 5 failures with 429, even with the right password, but not its address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await mutate("auth.login", { name: "operator-user", password: `wrong-${i}` })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const limited = await mutate("auth.login", {
      name: "operator-user",
      password: server.passwords.operator,
    });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toMatch(/too many failed sign-ins for this user name/);
    // The same address, another account that nobody attacked: slowed down, not refused.
    const other = await mutate("auth.login", {
      name: "admin-user",
      password: server.passwords.admin,
    });
    expect(other.status).toBe(200);
  });
});
