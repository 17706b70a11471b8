/**
 * Runs generated command lines under the local /bin/sh (dash on Debian, like most directors'
 * /bin/sh) for the quoting and injection tests. Test-only.
 */
import { execFileSync } from "node:child_process";

/** What `printf '%s\0' <line>` prints, split back into words: the argv the shell built. */
export function wordsAfterShell(line: string, cwd: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${line}`], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
  });
  return out.toString("utf8").split("\0").slice(0, -1);
}

/**
 * Runs `<prefix> <line>` for each prefix (e.g. ":" and "echo"), one script line each, in one
 * shell, and returns its stdout.
 */
export function runUnder(prefixes: readonly string[], line: string, cwd: string): string {
  const script = prefixes.map((prefix) => `${prefix} ${line}`).join("\n");
  return execFileSync("/bin/sh", ["-c", script], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  }).toString("utf8");
}
