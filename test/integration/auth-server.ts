/**
 * A production console server for HTTP-level tests: builds .next when it is missing or older
 * than the sources, writes a config for the lab director with one user per role, starts
 * `next start` on 127.0.0.1 and stops it (by PID) afterwards.
 * LVS_TEST_NEXT_DIR serves another checkout's build instead (while developing).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labExec, readLabDirector, repoRoot } from "../../lab/harness";
import { hashPassword } from "../../server/auth/password";
import type { Role } from "../../server/config/users-schema";

export interface ConsoleServer {
  url: string;
  dir: string;
  configPath: string;
  passwords: Record<Role, string>;
  /** Everything the server printed. */
  output: () => string;
  stop: () => Promise<void>;
}

const SOURCES = [
  "app",
  "server",
  "components",
  "proxy.ts",
  "next.config.ts",
  "instrumentation.ts",
  "package.json",
];

function newestSource(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return /\.test\.tsx?$/.test(path) ? 0 : st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "__fixtures__" || entry === "node_modules") continue;
    newest = Math.max(newest, newestSource(join(path, entry)));
  }
  return newest;
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}`)),
    );
  });
}

/** Reuses .next when it is newer than every source file (the test pipeline may have built it). */
export async function ensureProductionBuild(dir = repoRoot): Promise<void> {
  const buildId = join(dir, ".next", "BUILD_ID");
  if (process.env.LVS_TEST_NEXT_DIR) return;
  const newest = Math.max(...SOURCES.map((s) => newestSource(join(dir, s))));
  if (existsSync(buildId) && statSync(buildId).mtimeMs > newest) return;
  await run(
    process.execPath,
    [join(dir, "node_modules", "next", "dist", "bin", "next"), "build"],
    dir,
  );
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/trpc/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the console did not answer on ${url} within ${timeoutMs} ms`);
}

export async function startConsole(opts: {
  port: number;
  labName: string;
  /** Extra YAML appended to the config (e.g. an auth: section). */
  extraYaml?: string;
  /** Another run's data directory (its SQLite file): a restart of that console. */
  dataDir?: string;
  /** Default 600 000: a poller started by the server must not blur the SSH session count. */
  pollIntervalMs?: number;
}): Promise<ConsoleServer> {
  const dir = process.env.LVS_TEST_NEXT_DIR ?? repoRoot;
  await ensureProductionBuild(dir);
  const lab = await readLabDirector(opts.labName);
  const tmp = mkdtempSync(join(tmpdir(), "lvs-console-auth-"));
  const passwords = {} as Record<Role, string>;
  const userLines: string[] = [];
  for (const role of ["viewer", "operator", "admin"] as const) {
    passwords[role] = randomBytes(15).toString("base64url");
    userLines.push(
      `  - name: ${role}-user`,
      `    role: ${role}`,
      `    passwordHash: "${await hashPassword(passwords[role])}"`,
    );
  }
  const configPath = join(tmp, "lvs-console.yaml");
  writeFileSync(
    configPath,
    [
      `pollIntervalMs: ${opts.pollIntervalMs ?? 600_000}`,
      `dataDir: ${JSON.stringify(opts.dataDir ?? join(tmp, "data"))}`,
      "clusters:",
      "  - id: lab",
      "    directors:",
      "      - id: lab",
      `        host: ${JSON.stringify(lab.host)}`,
      `        port: ${lab.port}`,
      `        user: ${JSON.stringify(lab.user)}`,
      `        privateKeyPath: ${JSON.stringify(lab.privateKeyPath)}`,
      `        hostKeyFingerprint: ${JSON.stringify(lab.hostKeyFingerprint)}`,
      "users:",
      ...userLines,
      opts.extraYaml ?? "",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );

  const child = spawn(
    process.execPath,
    [
      join(dir, "node_modules", "next", "dist", "bin", "next"),
      "start",
      "-H",
      "127.0.0.1",
      "-p",
      String(opts.port),
    ],
    {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        NODE_ENV: "production",
        LVS_CONSOLE_CONFIG: configPath,
        LVS_CONSOLE_DB: join(opts.dataDir ?? join(tmp, "data"), "console.sqlite"),
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
  );
  let output = "";
  child.stdout?.on("data", (b: Buffer) => (output += b.toString("utf8")));
  child.stderr?.on("data", (b: Buffer) => (output += b.toString("utf8")));
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForHealth(url, child, 60_000);
  } catch (e) {
    await stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${output}`);
  }
  return { url, dir: tmp, configPath, passwords, output: () => output, stop };
}

/** Signs in over HTTP and returns the Cookie header value for later requests. */
export async function signIn(server: ConsoleServer, role: Role): Promise<string> {
  const res = await fetch(`${server.url}/api/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: JSON.stringify({ json: { name: `${role}-user`, password: server.passwords[role] } }),
  });
  if (res.status !== 200)
    throw new Error(`sign-in as ${role}: HTTP ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie") ?? "";
  const m = /lvs_session=([^;]+)/.exec(cookie);
  if (!m) throw new Error(`sign-in as ${role}: no session cookie in ${cookie}`);
  return `lvs_session=${m[1]}`;
}

/**
 * How many commands the lab director has been asked to run since boot (lab-commands: every
 * SSH session's command and every command the console's remote shells ran). Counts itself.
 */
export async function labCommandCount(labName: string): Promise<number> {
  const r = await labExec(labName, "lab-commands", { timeoutMs: 30_000 });
  const n = Number(r.stdout.trim());
  if (r.stdout.trim() === "" || !Number.isInteger(n))
    throw new Error(`cannot count the lab's commands: ${r.stdout} ${r.stderr}`);
  return n;
}
