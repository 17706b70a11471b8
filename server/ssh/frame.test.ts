import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleError } from "@/server/errors";
import {
  FrameReader,
  frameRequest,
  newToken,
  parseReady,
  SHELL_PRELUDE,
  type FramedResult,
} from "./frame";
import { scriptCommandLine } from "./quote";

/** The remote shell's protocol against the local /bin/sh (dash on Debian, like directors). */
class LocalShell {
  readonly proc: ChildProcessWithoutNullStreams;
  private onOut: (chunk: Buffer) => void = () => undefined;
  private onErr: (chunk: Buffer) => void = () => undefined;
  pgid = 0;

  constructor() {
    this.proc = spawn("/bin/sh", [], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout.on("data", (c: Buffer) => this.onOut(c));
    this.proc.stderr.on("data", (c: Buffer) => this.onErr(c));
  }

  ready(): Promise<void> {
    let seen = Buffer.alloc(0);
    return new Promise((resolve) => {
      this.onOut = (c) => {
        seen = Buffer.concat([seen, c]);
        const r = parseReady(seen);
        if (r) {
          this.pgid = r.pgid;
          resolve();
        }
      };
      this.proc.stdin.write(SHELL_PRELUDE);
    });
  }

  /** Runs a command line; `split` feeds the reader one byte at a time. */
  run(command: string, opts: { max?: number; split?: boolean } = {}): Promise<FramedResult> {
    const token = newToken();
    const reader = new FrameReader(token, opts.max ?? 1 << 20);
    return new Promise((resolve, reject) => {
      const feed = (push: (c: Buffer) => void) => (c: Buffer) => {
        if (opts.split) for (const byte of c) push(Buffer.from([byte]));
        else push(c);
        if (reader.overflow) return reject(new Error("overflow"));
        const r = reader.result();
        if (r) resolve(r);
      };
      this.onOut = feed((c) => reader.push(c));
      this.onErr = () => undefined;
      this.proc.stdin.write(frameRequest(token, command));
    });
  }

  script(script: string, args: string[] = []): Promise<FramedResult> {
    return this.run(scriptCommandLine(script, args));
  }
}

const text = (r: FramedResult) => ({
  stdout: r.stdout.toString("utf8"),
  stderr: r.stderr.toString("utf8"),
  exitCode: r.exitCode,
});

let shell: LocalShell;
beforeAll(async () => {
  shell = new LocalShell();
  await shell.ready();
});
afterAll(() => shell.proc.kill());

describe("the remote shell's framing", () => {
  it("reports the shell's process group once ready", () => {
    expect(shell.pgid).toBeGreaterThan(1);
  });

  it("returns stdout, stderr and the exit code of each command, in order", async () => {
    expect(text(await shell.script("echo out; echo err >&2; exit 3"))).toEqual({
      stdout: "out\n",
      stderr: "err\n",
      exitCode: 3,
    });
    expect(text(await shell.script('printf "%s" "$LC_ALL"'))).toEqual({
      stdout: "C",
      stderr: "",
      exitCode: 0,
    });
    expect(text(await shell.script("printf 'no newline'"))).toMatchObject({
      stdout: "no newline",
    });
    expect(text(await shell.script("printf '\\n\\n'"))).toMatchObject({ stdout: "\n\n" });
    expect(text(await shell.script(":"))).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  });

  it("survives output that imitates its markers, binary bytes and split chunks", async () => {
    const other = newToken();
    const hostile = [
      `printf '%s start\\n%s err\\n\\n%s end 0\\n' ${other} ${other} ${other}`,
      `printf '%s end 0\\n' ${other} >&2`,
      "printf 'lvs-shell-ready 1\\n'",
      "printf '\\000\\001\\377\\376 end 0\\n'",
      "printf '\\n@@lvs-console:9c1f@@ exit 0\\n'",
    ].join("; ");
    const r = await shell.run(scriptCommandLine(hostile), { split: true });
    expect(r.exitCode).toBe(0);
    // A shell variable holds no NUL: the answer is text.
    expect(r.stdout.toString("latin1")).toBe(
      `${other} start\n${other} err\n\n${other} end 0\nlvs-shell-ready 1\n\x01\xff\xfe end 0\n\n@@lvs-console:9c1f@@ exit 0\n`,
    );
    expect(r.stderr.toString("latin1")).toBe(`${other} end 0\n`);
  });

  it("hides its token and its own arguments from the command", async () => {
    const r = await shell.script('printf "[%s][%s][%s][%s]" "$lvs_t" "$1" "$#" "$lvs_x"');
    expect(r.stdout.toString()).toBe("[][][0][]");
    const args = await shell.script('printf "%s|" "$@"', ["a b", "'", "$(touch /nonexistent)"]);
    expect(args.stdout.toString()).toBe("a b|'|$(touch /nonexistent)|");
  });

  it("is not poisoned by a command that exits, breaks its syntax, reads stdin or changes the shell", async () => {
    for (const script of [
      "exit 7",
      "set -e; false",
      "cd /; unset PATH; trap 'echo trapped' EXIT; x=1",
      "echo 'unbalanced",
      "fi; done; )",
      "cat; read -r line; echo read:$?",
      "exec >/dev/null 2>&1; echo gone",
      "lvs_run() { echo hijacked; }",
    ]) {
      const r = await shell.script(script);
      expect(r.exitCode, script).not.toBe(-1);
    }
    expect(text(await shell.script("echo before; exit 7"))).toEqual({
      stdout: "before\n",
      stderr: "",
      exitCode: 7,
    });
    expect(text(await shell.script("echo 'unbalanced"))).toMatchObject({
      stdout: "",
      exitCode: 2,
      stderr: expect.stringMatching(/Unterminated quoted string/) as string,
    });
    expect(text(await shell.script('cd; echo "$x" "$PWD" ok'))).toEqual({
      stdout: ` ${process.env.HOME ?? ""} ok\n`,
      stderr: "",
      exitCode: 0,
    });
    expect(text(await shell.script("cat; echo $?"))).toEqual({
      stdout: "0\n",
      stderr: "",
      exitCode: 0,
    });
  });

  it("waits for the background jobs of a command, as an exec channel would", async () => {
    const r = await shell.script("(sleep 0.2; echo late; echo late >&2) & echo now");
    expect(r.stdout.toString()).toBe("now\nlate\n");
    expect(
      text(await shell.script("(exec >/dev/null; sleep 0.2; echo late >&2) & echo now")),
    ).toEqual({
      stdout: "now\n",
      stderr: "late\n",
      exitCode: 0,
    });
    await new Promise((res) => setTimeout(res, 400));
    expect(text(await shell.script("echo next"))).toEqual({
      stdout: "next\n",
      stderr: "",
      exitCode: 0,
    });
  });

  it("passes large outputs whole and stops at the cap", async () => {
    const big = await shell.run(scriptCommandLine("head -c 3000000 /dev/zero | tr '\\0' x"), {
      max: 4 << 20,
    });
    expect(big.stdout.length).toBe(3_000_000);
    await expect(
      shell.run(scriptCommandLine("head -c 5000 /dev/zero | tr '\\0' y"), { max: 4096 }),
    ).rejects.toThrow("overflow");
  });

  it("refuses a bad token and a NUL in the command line", () => {
    expect(() => frameRequest("lvs-x", "true")).toThrow(RangeError);
    expect(() => frameRequest(newToken(), "echo a\0b")).toThrow(ConsoleError);
    expect(newToken()).not.toBe(newToken());
  });
});
