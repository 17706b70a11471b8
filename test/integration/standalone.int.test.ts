/**
 * The installed layout, as deploy/lvs-console.service runs it: scripts/package.sh builds
 * dist/lvs-console, which is copied to a temp dir and started with `node server.js` from
 * there, with no project checkout or dev dependency on any path it can see (cwd, NODE_PATH
 * and PATH point elsewhere). The bundled user CLI adds the first admin; the admin signs in
 * and sees the lab director live.
 */
import { testPort } from "../support/ports";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readLabDirector, repoRoot } from "../../lab/harness";
import { ensureProductionBuild } from "./auth-server";

const PORT = testPort(3208);
const url = `http://127.0.0.1:${PORT}`;
let dir: string;
let child: ChildProcess | undefined;
let output = "";

/** An environment without the checkout: no node_modules/.bin on PATH, no NODE_PATH. */
function installedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    LVS_CONSOLE_CONFIG: join(dir, "etc", "lvs-console.yaml"),
    LVS_CONSOLE_DB: join(dir, "state", "lvs-console.sqlite"),
    ...extra,
  };
}

async function waitForReady(): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child?.exitCode !== null) throw new Error(`server.js exited:\n${output}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server.js did not get ready:\n${output}`);
}

beforeAll(async () => {
  await ensureProductionBuild();
  const pack = spawnSync("bash", [join(repoRoot, "scripts", "package.sh"), "--no-build"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  expect(pack.status, pack.stderr).toBe(0);

  dir = mkdtempSync(join(tmpdir(), "lvs-console-installed-"));
  const app = join(dir, "opt");
  cpSync(join(repoRoot, "dist", "lvs-console"), app, { recursive: true });
  const lab = await readLabDirector(inject("labName"));
  mkdirSync(join(dir, "etc"), { mode: 0o700 });
  mkdirSync(join(dir, "state"), { mode: 0o700 });
  const config = join(dir, "etc", "lvs-console.yaml");
  cpSync(lab.privateKeyPath, join(dir, "etc", "id_ed25519"));
  writeFileSync(
    config,
    [
      `dataDir: ${JSON.stringify(join(dir, "state"))}`,
      "clusters:",
      "  - id: lab",
      "    directors:",
      "      - id: lab",
      `        host: ${JSON.stringify(lab.host)}`,
      `        port: ${lab.port}`,
      `        user: ${JSON.stringify(lab.user)}`,
      `        privateKeyPath: ${JSON.stringify(join(dir, "etc", "id_ed25519"))}`,
      `        hostKeyFingerprint: ${JSON.stringify(lab.hostKeyFingerprint)}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  child = spawn(process.execPath, [join(app, "server.js")], {
    cwd: app,
    stdio: ["ignore", "pipe", "pipe"],
    env: installedEnv({ HOSTNAME: "127.0.0.1", PORT: String(PORT) }),
  });
  child.stdout?.on("data", (b: Buffer) => (output += b.toString("utf8")));
  child.stderr?.on("data", (b: Buffer) => (output += b.toString("utf8")));
  await waitForReady();
});

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child?.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child?.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
});

describe("the standalone install", () => {
  it("carries its native modules and the bundled CLI", () => {
    for (const path of [
      "server.js",
      "node_modules/better-sqlite3/package.json",
      "node_modules/ssh2/package.json",
      ".next/static",
      "bin/lvs-console-user.mjs",
    ])
      expect(existsSync(join(dir, "opt", path)), path).toBe(true);
  });

  it("adds the first admin with the bundled CLI, signs in and sees the lab director live", async () => {
    const password = randomBytes(15).toString("base64url");
    const cli = spawnSync(
      process.execPath,
      [join(dir, "opt", "bin", "lvs-console-user.mjs"), "add", "root-admin", "--role", "admin"],
      { cwd: dir, input: `${password}\n`, encoding: "utf8", env: installedEnv({}) },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("added root-admin (admin)");

    const login = await fetch(`${url}/api/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: url },
      body: JSON.stringify({ json: { name: "root-admin", password } }),
    });
    expect(login.status).toBe(200);
    const cookie = /lvs_session=[^;]+/.exec(login.headers.get("set-cookie") ?? "")?.[0] ?? "";
    expect(cookie).not.toBe("");

    const input = encodeURIComponent(JSON.stringify({ json: { directorId: "lab" } }));
    const res = await fetch(`${url}/api/trpc/live.status?input=${input}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      result: { data: { json: { reachability: string; snapshot: { services: unknown[] } } } };
    };
    expect(body.result.data.json.reachability).not.toBe("unreachable");
    expect(body.result.data.json.snapshot.services.length).toBeGreaterThan(0);
    expect(output).not.toContain(password);
  });
});
