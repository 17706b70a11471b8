/**
 * Sign-in over the real tRPC HTTP handler (app/api/trpc/[trpc]/route.ts), in process and
 * without a director: batching refused before any check, RATE_LIMITED as 429, the cookie's
 * name and Secure flag from the transport, the forwarded client address in the audit log.
 * The peer header is what server/auth/peer.ts stamps from the socket in production.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST } from "@/app/api/trpc/[trpc]/route";
import { setConfig, type Config } from "@/server/config";
import { closeDb, getDb } from "@/server/db";
import { markPeerHookInstalled, PEER_HEADER } from "@/server/auth/http";
import { hashPassword } from "@/server/auth/password";
import { authConfigSchema, usersSchema } from "@/server/config/users-schema";
import { resetLoginLimits } from "@/server/auth/service";

const PASSWORD = "vera-password-1";
let base: Omit<Config, "auth">;

beforeAll(async () => {
  markPeerHookInstalled();
  const dir = mkdtempSync(join(tmpdir(), "lvs-sign-in-"));
  process.env.LVS_CONSOLE_DB = join(dir, "console.sqlite");
  base = {
    file: "<inline>",
    pollIntervalMs: 2000,
    dataDir: dir,
    clusters: [],
    // At the current cost, so no sign-in here upgrades it.
    users: usersSchema.parse([
      { name: "vera", role: "viewer", passwordHash: await hashPassword(PASSWORD) },
    ]),
  };
});
beforeEach(() => {
  resetLoginLimits();
  setConfig({ ...base, auth: authConfigSchema.parse({ trustedProxies: ["127.0.0.1"] }) });
});
afterAll(() => {
  setConfig(undefined);
  closeDb();
});

function post(
  path: string,
  body: unknown,
  headers: Record<string, string>,
  query = "",
): Promise<Response> {
  return POST(
    new Request(`http://console.test/api/trpc/${path}${query}`, {
      method: "POST",
      headers: { "content-type": "application/json", host: "console.test", ...headers },
      body: JSON.stringify(body),
    }),
  );
}

const login = (password: string, headers: Record<string, string>, name = "vera") =>
  post("auth.login", { json: { name, password } }, headers);

const failedSignIns = () =>
  getDb()
    .prepare(`SELECT user, remote_address AS address FROM audit WHERE action = 'auth.login'`)
    .all() as Array<{ user: string; address: string | null }>;

describe("auth.login over HTTP", () => {
  it("refuses a batch holding auth.login with 400, before any password check", async () => {
    const before = failedSignIns().length;
    const res = await post(
      "auth.login,auth.login",
      {
        0: { json: { name: "vera", password: "a" } },
        1: { json: { name: "vera", password: "b" } },
      },
      { [PEER_HEADER]: "192.0.2.9" },
      "?batch=1",
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/cannot be batched/);
    expect(failedSignIns().length).toBe(before);
  });

  it("answers a second guess for a name under check with 429 RATE_LIMITED", async () => {
    const [first, second] = await Promise.all([
      login("wrong-1", { [PEER_HEADER]: "192.0.2.9" }, "ghost"),
      login("wrong-2", { [PEER_HEADER]: "192.0.2.10" }, "ghost"),
    ]);
    expect([first.status, second.status].sort()).toEqual([401, 429]);
    const limited = first.status === 429 ? first : second;
    const body = (await limited.json()) as { error: { json: { data: { console: unknown } } } };
    expect(body.error.json.data.console).toMatchObject({
      code: "RATE_LIMITED",
      details: { reason: "name-busy" },
    });
  });

  it("sets a __Host- Secure cookie only for TLS a trusted proxy reports", async () => {
    const direct = await login(PASSWORD, {
      [PEER_HEADER]: "192.0.2.9",
      "x-forwarded-proto": "https",
    });
    expect(direct.status).toBe(200);
    expect(direct.headers.get("set-cookie")).toMatch(
      /^lvs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    const proxied = await login(PASSWORD, {
      [PEER_HEADER]: "127.0.0.1",
      "x-forwarded-proto": "https",
    });
    expect(proxied.headers.get("set-cookie")).toMatch(
      /^__Host-lvs_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
    );
  });

  it("audits a failure with the client address a trusted proxy forwarded", async () => {
    await login("wrong", {
      [PEER_HEADER]: "127.0.0.1",
      "x-forwarded-for": "6.6.6.6, 198.51.100.8",
    });
    await login("wrong", { [PEER_HEADER]: "192.0.2.77", "x-forwarded-for": "198.51.100.9" });
    expect(failedSignIns().slice(-2)).toEqual([
      { user: "vera", address: "198.51.100.8" },
      { user: "vera", address: "192.0.2.77" },
    ]);
  });
});
