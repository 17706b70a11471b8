/**
 * The apply script under the local /bin/sh, with a fake `ipvsadm` (and `sudo`) on PATH that
 * log their argv: nothing runs before the answer, "go" runs the commands in order and stops
 * at the first failure, anything else runs nothing, a held lock gives up, and a sudo
 * director's commands go through `sudo -n --` one program at a time, never a shell.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scriptCommandLine, scriptLine } from "@/server/ssh/quote";
import { ABORT, APPLY_SCRIPT, applyArgs, GO, parseApplyOutput, readyRead } from "./apply-script";

let dir = "";
let bin = "";
let log = "";
let holder: ChildProcess | null = null;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-apply-"));
  bin = path.join(dir, "bin");
  log = path.join(dir, "log");
  fs.mkdirSync(bin);
  // Listings print a line naming them; -e of 10.0.0.9 fails as the kernel would.
  fake(
    "ipvsadm",
    `printf 'ipvsadm %s\\n' "$*" >> "${log}"
case "$*" in
  *-L*|*--version*) echo "listing $*" ;;
  *10.0.0.9*) echo "Memory allocation problem" >&2; exit 255 ;;
esac
exit 0`,
  );
  fake(
    "sudo",
    `printf 'sudo %s\\n' "$*" >> "${log}"\n[ "$1" = -n ] && [ "$2" = -- ] || exit 1\nshift 2\nexec "$@"`,
  );
});

afterEach(() => {
  holder?.kill();
  holder = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

function fake(name: string, body: string): void {
  fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function line(steps: string[][], opts: { sudo?: boolean; wait?: number }): string {
  const sudo = opts.sudo ?? false;
  const args = applyArgs({
    lock: path.join(dir, "lock"),
    lockWaitSeconds: opts.wait ?? 5,
    tunnels: false,
    commandLines: steps.map((argv) => scriptLine(argv, { sudo })),
  });
  return scriptCommandLine(APPLY_SCRIPT, args, { sudo });
}

function run(steps: string[][], answer: string, opts: { sudo?: boolean; wait?: number } = {}) {
  const stdout = execFileSync("/bin/sh", ["-c", line(steps, opts)], {
    cwd: dir,
    input: answer,
    env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` },
  }).toString("utf8");
  return { stdout, out: parseApplyOutput(stdout) };
}

function logged(): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
}

const changes = (l: string[]) => l.filter((x) => !/ -L| --version/.test(x));
const weight = ["ipvsadm", "-e", "-t", "203.0.113.10:80", "-r", "10.10.0.11:80", "-m", "-w", "0"];
const failing = ["ipvsadm", "-e", "-t", "203.0.113.10:80", "-r", "10.0.0.9:80", "-m", "-w", "1"];
const sysctl = ["ipvsadm", "-a", "-t", "203.0.113.10:80", "-r", "10.10.0.14:80", "-m"];

describe("the apply script", () => {
  it("reads the rules under the lock, then on go runs each command with its exit code, then reads again", () => {
    const { stdout, out } = run([weight, sysctl], GO);
    expect(out.result).toBe("done");
    expect(out.lockWaitMs).toBeGreaterThanOrEqual(0);
    expect(out.ready).toBe(true);
    expect(out.steps).toEqual([
      { exitCode: 0, stderr: "" },
      { exitCode: 0, stderr: "" },
    ]);
    // The full read, both times: rules, stats, thresholds, tunnel info off.
    expect(out.before).toContain("listing -Ln --persistent-conn");
    expect(out.before).toContain("listing -Ln --thresholds");
    expect(out.after).toContain("listing -Ln --exact --stats");
    expect(readyRead(stdout)).toBe(out.before);
    expect(changes(logged())).toEqual([
      `ipvsadm ${weight.slice(1).join(" ")}`,
      `ipvsadm ${sysctl.slice(1).join(" ")}`,
    ]);
  });

  it("stops at the first failing command and reports its exit code and stderr", () => {
    const { out } = run([weight, failing, sysctl], GO);
    expect(out.result).toBe("done");
    expect(out.steps).toEqual([
      { exitCode: 0, stderr: "" },
      { exitCode: 255, stderr: "Memory allocation problem" },
    ]);
    expect(changes(logged())).toHaveLength(2);
    expect(out.after).toContain("listing");
  });

  it.each([
    ["abort", ABORT],
    ["no answer (stdin closed)", ""],
  ])("runs nothing on %s", (_label, answer) => {
    const { out } = run([weight], answer);
    expect(out.result).toBe("aborted");
    expect(out.steps).toEqual([]);
    expect(out.after).toBeNull();
    expect(changes(logged())).toEqual([]);
  });

  it("gives up when another process holds the lock, before reading or running anything", async () => {
    const lock = path.join(dir, "lock");
    holder = spawn("flock", [lock, "sh", "-c", "echo held; read x"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const stdout = holder.stdout;
    if (!stdout) throw new Error("no stdout");
    await once(stdout, "data");
    const { out } = run([weight], GO, { wait: 0 });
    expect(out.result).toBe("lock-busy");
    expect(out.ready).toBe(false);
    expect(logged()).toEqual([]);
  });

  it("waits for the lock when its holder lets go in time", async () => {
    const lock = path.join(dir, "lock");
    holder = spawn("flock", [lock, "sh", "-c", "echo held; read x"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const { stdout, stdin } = holder;
    if (!stdout || !stdin) throw new Error("no pipes");
    await once(stdout, "data");
    const apply = promisify(execFile)(
      "/bin/sh",
      ["-c", `printf go | {\n${line([weight], { wait: 5 })}\n}`],
      {
        cwd: dir,
        env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` },
      },
    );
    // Let go once the apply has had time to block in flock.
    setTimeout(() => stdin.end("\n"), 300);
    const out = parseApplyOutput((await apply).stdout);
    expect(out.result).toBe("done");
    expect(out.lockWaitMs).toBeGreaterThanOrEqual(200);
  });

  it("runs every privileged program through sudo -n -- itself on a sudo director, never a shell", () => {
    const { out } = run([weight], GO, { sudo: true });
    expect(out.result).toBe("done");
    const sudo = logged().filter((l) => l.startsWith("sudo "));
    expect(sudo.length).toBeGreaterThan(4);
    for (const line of sudo) expect(line).toMatch(/^sudo -n -- ipvsadm /);
    expect(sudo).toContain(`sudo -n -- ${weight.join(" ")}`);
  });

  it("keeps a hostile word one argument (never run by the shell)", () => {
    const marker = path.join(dir, "MARKER");
    const hostile = ["ipvsadm", "-e", "-t", `$(touch ${marker})`, "-r", "`touch x`;touch y"];
    const { out } = run([hostile], GO);
    expect(out.steps).toEqual([{ exitCode: 0, stderr: "" }]);
    expect(changes(logged())).toEqual([`ipvsadm -e -t $(touch ${marker}) -r \`touch x\`;touch y`]);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.existsSync(path.join(dir, "y"))).toBe(false);
  });
});

describe("parseApplyOutput", () => {
  it("reads a cut-off output as incomplete, with the steps that reported", () => {
    const { stdout } = run([weight, sysctl], GO);
    const cut = stdout.slice(0, stdout.indexOf("exit 1 0"));
    const out = parseApplyOutput(cut);
    expect(out.result).toBe("incomplete");
    expect(out.steps).toHaveLength(1);
    expect(out.after).toBeNull();
  });

  it("sees no ready state before the read is complete", () => {
    const { stdout } = run([weight], ABORT);
    expect(readyRead(stdout.slice(0, stdout.indexOf(" ready")))).toBeNull();
  });
});
