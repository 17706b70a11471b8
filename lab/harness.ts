// Test helper for the LVS lab (lab/lab.sh): find, start, stop and query lab directors.
// Node built-ins only, so it works from vitest, Playwright and plain scripts alike.
// labExec is for test assertions ("what does the director really look like?"); the console
// itself talks to the director through server/ssh.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file lives in <root>/lab/). */
export const repoRoot: string = fileURLToPath(new URL("..", import.meta.url));
const labScript = join(repoRoot, "lab", "lab.sh");

/** What `lab.sh up` writes to .lab/run/NAME/director.json. */
export interface LabDirector {
  id: string;
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** OpenSSH format, e.g. "SHA256:gLY5K9zA0sGE2abP1lW7Q5/Rxqqts632k+PT2YRSYZY". */
  hostKeyFingerprint: string;
  knownHostsPath: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code of the remote command (ssh passes it through; 255 = ssh itself failed). */
  code: number;
}

export interface LabExecOptions {
  /** Remote user: "root" (default) or "lvs" (passwordless sudo). */
  user?: string;
  /** Written to the remote command's stdin. */
  input?: string;
  /** Kill ssh after this many milliseconds (default 60 000). */
  timeoutMs?: number;
}

export function labRunDir(name: string): string {
  return join(repoRoot, ".lab", "run", name);
}

export async function readLabDirector(name: string): Promise<LabDirector> {
  const file = join(labRunDir(name), "director.json");
  const raw: unknown = JSON.parse(await readFile(file, "utf8"));
  if (!isLabDirector(raw)) throw new Error(`${file}: not a lab director description`);
  return raw;
}

function isLabDirector(v: unknown): v is LabDirector {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === "string" &&
    typeof o.host === "string" &&
    typeof o.port === "number" &&
    typeof o.user === "string" &&
    typeof o.privateKeyPath === "string" &&
    typeof o.hostKeyFingerprint === "string" &&
    o.hostKeyFingerprint.startsWith("SHA256:") &&
    typeof o.knownHostsPath === "string"
  );
}

interface RunResult extends ExecResult {
  timedOut: boolean;
}

function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; inherit?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, LC_ALL: "C" },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
          }, opts.timeoutMs);
    child.stdout?.on("data", (b: Buffer) => {
      out.push(b);
      if (opts.inherit) process.stderr.write(b);
    });
    child.stderr?.on("data", (b: Buffer) => {
      err.push(b);
      if (opts.inherit) process.stderr.write(b);
    });
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        code: code ?? (signal ? 128 : 1),
        timedOut,
      });
    });
    if (opts.input !== undefined && child.stdin) child.stdin.end(opts.input);
  });
}

/** Is lab NAME up and ready? (`lab.sh status` exits 0 only then.) */
export async function labIsRunning(name: string): Promise<boolean> {
  const r = await run("bash", [labScript, "status", "--name", name]);
  return r.code === 0;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Make sure lab NAME is running, starting it (build + boot, up to a few minutes the first
 * time) only if `status` says it is not. `startedByUs` tells the caller whether to stop it.
 * If another process is starting the same lab, waits for it instead.
 */
export async function ensureLab(opts: {
  name: string;
  port: number;
  timeoutSeconds?: number;
}): Promise<{ director: LabDirector; startedByUs: boolean }> {
  const status = await run("bash", [labScript, "status", "--name", opts.name]);
  if (status.code === 0) {
    return { director: await readLabDirector(opts.name), startedByUs: false };
  }
  if (status.stdout.includes("is starting")) {
    const deadline = Date.now() + (opts.timeoutSeconds ?? 120) * 1000 + 60_000;
    while (Date.now() < deadline) {
      await sleep(1000);
      if (await labIsRunning(opts.name)) {
        return { director: await readLabDirector(opts.name), startedByUs: false };
      }
    }
    throw new Error(`lab ${opts.name}: another process started it but it never became ready`);
  }
  const args = [labScript, "up", "--name", opts.name, "--port", String(opts.port)];
  if (opts.timeoutSeconds !== undefined) args.push("--timeout", String(opts.timeoutSeconds));
  const r = await run("bash", args, { inherit: process.env.LAB_VERBOSE === "1" });
  if (r.code !== 0) {
    throw new Error(
      `lab.sh up --name ${opts.name} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`,
    );
  }
  return { director: await readLabDirector(opts.name), startedByUs: true };
}

export async function stopLab(name: string): Promise<void> {
  const r = await run("bash", [labScript, "down", "--name", name]);
  if (r.code !== 0)
    throw new Error(`lab.sh down --name ${name} failed (exit ${r.code}):\n${r.stderr}`);
}

/**
 * Run a shell command line on lab NAME's director (or an HA lab's NAME-a, NAME-b, NAME-net)
 * with the OpenSSH client: strict host key checking against the lab's known_hosts, the
 * lab's key only, no agent, no prompts.
 * One new SSH connection per call (about 1 s); batch assertions into one command line.
 */
export async function labExec(
  name: string,
  command: string,
  opts: LabExecOptions = {},
): Promise<ExecResult> {
  const d = await labSshTarget(name);
  const args = [
    "-i",
    d.privateKeyPath,
    ...d.via,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${d.knownHostsPath}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "UpdateHostKeys=no",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=10",
    `${opts.user ?? d.user}@${d.host}`,
    command,
  ];
  const r = await run("ssh", args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  if (r.timedOut) throw new Error(`labExec(${name}): timed out: ${command}`);
  return { stdout: r.stdout, stderr: r.stderr, code: r.code };
}

/**
 * How to reach guest NAME: a director by its loopback port, or the HA lab's network guest
 * (NAME-net, no port) through its unix socket, as `lab.sh ssh` does.
 */
async function labSshTarget(name: string): Promise<{
  host: string;
  user: string;
  privateKeyPath: string;
  knownHostsPath: string;
  via: string[];
}> {
  const dir = labRunDir(name);
  const port = (await readFile(join(dir, "port"), "utf8").catch(() => "")).trim();
  if (port !== "unix") {
    const d = await readLabDirector(name);
    return { ...d, via: ["-p", String(d.port)] };
  }
  const sock = (await readFile(join(dir, "sock"), "utf8")).trim();
  return {
    host: name,
    user: "root",
    privateKeyPath: join(repoRoot, ".lab", "cache", "keys", "id_ed25519"),
    knownHostsPath: join(dir, "known_hosts"),
    via: ["-o", `ProxyCommand=socat - UNIX-CONNECT:${sock}`, "-o", `HostKeyAlias=${name}`],
  };
}

/** The HA lab (`lab.sh up --ha`): directors NAME-a (MASTER) and NAME-b, guest NAME-net. */
export interface HaLab {
  name: string;
  /** [NAME-a on port, NAME-b on port + 1] */
  directors: [LabDirector, LabDirector];
  /** The guest with the clients (lab-traffic) and the realservers, for labExec. */
  net: string;
  startedByUs: boolean;
}

async function readHaLab(name: string, startedByUs: boolean): Promise<HaLab> {
  const directors: [LabDirector, LabDirector] = [
    await readLabDirector(`${name}-a`),
    await readLabDirector(`${name}-b`),
  ];
  return { name, directors, net: `${name}-net`, startedByUs };
}

/**
 * Make sure the HA lab NAME is running (both directors and the network guest), starting it
 * only if `status` says it is not; like ensureLab, waits for another process starting it.
 * Stop it with stopLab(name) when startedByUs.
 */
export async function ensureHaLab(opts: {
  name: string;
  port: number;
  timeoutSeconds?: number;
}): Promise<HaLab> {
  const status = await run("bash", [labScript, "status", "--name", opts.name]);
  if (status.code === 0) return readHaLab(opts.name, false);
  if (status.stdout.includes("is starting")) {
    const deadline = Date.now() + (opts.timeoutSeconds ?? 120) * 1000 + 60_000;
    while (Date.now() < deadline) {
      await sleep(1000);
      if (await labIsRunning(opts.name)) return readHaLab(opts.name, false);
    }
    throw new Error(`HA lab ${opts.name}: another process started it but it never became ready`);
  }
  const args = [labScript, "up", "--ha", "--name", opts.name, "--port", String(opts.port)];
  if (opts.timeoutSeconds !== undefined) args.push("--timeout", String(opts.timeoutSeconds));
  const r = await run("bash", args, { inherit: process.env.LAB_VERBOSE === "1" });
  if (r.code !== 0) {
    throw new Error(
      `lab.sh up --ha --name ${opts.name} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`,
    );
  }
  return readHaLab(opts.name, true);
}
