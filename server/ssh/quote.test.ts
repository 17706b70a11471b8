import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ConsoleError } from "@/server/errors";
import { commandLine, scriptCommandLine, shellQuote } from "./quote";
import { runUnder, wordsAfterShell } from "@/test/support/shell-harness";

const dir = mkdtempSync(path.join(tmpdir(), "lvs-quote-"));
const MARKER = path.join(dir, "MARKER");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("shellQuote", () => {
  it("leaves plain words bare and single-quotes the rest", () => {
    expect(
      shellQuote(["ipvsadm", "-e", "-t", "203.0.113.10:80", "-r", "10.10.0.11:80", "-w", "0"]),
    ).toBe("ipvsadm -e -t 203.0.113.10:80 -r 10.10.0.11:80 -w 0");
    expect(shellQuote(["ipvsadm", "-a", "-t", "[2001:db8::1]:80"])).toBe(
      "ipvsadm -a -t '[2001:db8::1]:80'",
    );
    expect(shellQuote(["sysctl", "-w", "net.ipv4.vs.expire_quiescent_template=1"])).toBe(
      "sysctl -w net.ipv4.vs.expire_quiescent_template=1",
    );
    // A first word with "=" would be a variable assignment, not a command.
    expect(shellQuote(["A=b", "c=d"])).toBe("'A=b' c=d");
    for (const word of [
      "",
      "a b",
      "*",
      "?",
      "~",
      "~root",
      "$HOME",
      "a;b",
      "a|b",
      "a&b",
      "(",
      "!",
      "#",
      "a\nb",
    ]) {
      expect(shellQuote(["echo", word])).toBe(`echo '${word}'`);
    }
  });

  it("writes a single quote as '\\''", () => {
    expect(shellQuote(["it's"])).toBe(`'it'\\''s'`);
    expect(wordsAfterShell(shellQuote(["it's", "'", "''"]), dir)).toEqual(["it's", "'", "''"]);
  });

  it("refuses a NUL byte with a VALIDATION error", () => {
    expect(() => shellQuote(["ipvsadm", "a\0b"])).toThrow(ConsoleError);
    try {
      shellQuote(["ipvsadm", "a\0b"]);
    } catch (e) {
      expect(e).toMatchObject({ code: "VALIDATION", details: { index: 1 } });
    }
  });

  it("refuses an empty argv", () => {
    expect(() => shellQuote([])).toThrow(/empty argv/);
  });
});

describe("commandLine", () => {
  it("sets LC_ALL=C through env(1)", () => {
    expect(commandLine(["ipvsadm", "-Sn"])).toBe("env LC_ALL=C ipvsadm -Sn");
  });

  it("puts sudo -n -- right before the program, so sudo runs it and no env or shell", () => {
    expect(wordsAfterShell(commandLine(["ipvsadm", "-Ln"], { sudo: true }), dir)).toEqual([
      "env",
      "LC_ALL=C",
      "sudo",
      "-n",
      "--",
      "ipvsadm",
      "-Ln",
    ]);
    // Reads of world-readable files need no root.
    expect(commandLine(["cat", "/proc/net/ip_vs_conn"], { sudo: true })).toBe(
      "env LC_ALL=C cat /proc/net/ip_vs_conn",
    );
  });

  it("keeps LC_ALL=C even when the caller passes another LC_ALL", () => {
    expect(
      wordsAfterShell(commandLine(["locale"], { env: { LC_ALL: "de_DE.UTF-8", TZ: "UTC" } }), dir),
    ).toEqual(["env", "LC_ALL=C", "TZ=UTC", "locale"]);
  });

  it("really runs the command with LC_ALL=C", () => {
    expect(runUnder([""], commandLine(["sh", "-c", 'printf %s "$LC_ALL"']), dir)).toBe("C");
  });

  it("refuses a program name env(1) would misread, and bad variable names", () => {
    expect(() => commandLine(["A=B", "x"])).toThrow(ConsoleError);
    expect(() => commandLine(["-i", "x"])).toThrow(ConsoleError);
    expect(() => commandLine([])).toThrow(ConsoleError);
    expect(() => commandLine(["ipvsadm"], { env: { "A;touch x": "1" } })).toThrow(
      /environment variable name/,
    );
  });
});

describe("scriptCommandLine", () => {
  const script = 'printf "%s|%s|%s" "$LC_ALL" "$1" "$#"';

  it("runs the script in the login shell, LC_ALL=C exported first and the values as $1...", () => {
    const line = scriptCommandLine(script, ["it's", `$(touch ${MARKER})`]);
    expect(line.startsWith("LC_ALL=C; export LC_ALL\nasroot=\nset -- 'it'\\''s' ")).toBe(true);
    expect(runUnder([""], line, dir)).toBe("C|it's|2");
    expect(existsSync(MARKER)).toBe(false);
  });

  it("runs as the login under sudo, with $asroot for the programs that need root", () => {
    const line = scriptCommandLine('printf "%s|%s" "$asroot" "$1"', ["a b"], { sudo: true });
    expect(runUnder([""], line, dir)).toBe("sudo -n --|a b");
    expect(runUnder([""], scriptCommandLine('printf "[%s]" "$asroot"'), dir)).toBe("[]");
  });

  it("goes through sh -c under sudo only for a root shell (the lasting transaction)", () => {
    expect(
      wordsAfterShell(scriptCommandLine(script, ["a b"], { sudo: true, rootShell: true }), dir),
    ).toEqual([
      "sudo",
      "-n",
      "--",
      "sh",
      "-c",
      `LC_ALL=C; export LC_ALL\nasroot=\n${script}`,
      "sh",
      "a b",
    ]);
  });

  it("refuses a NUL byte in a value", () => {
    expect(() => scriptCommandLine(script, ["a\0b"])).toThrow(ConsoleError);
  });
});

describe("shellQuote properties", () => {
  const word = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0"));
  const hostileFragment = fc.constantFrom(
    `$(touch ${MARKER})`,
    `\`touch ${MARKER}\``,
    `;touch ${MARKER}`,
    `&& touch ${MARKER}`,
    `| touch ${MARKER}`,
    `\ntouch ${MARKER}\n`,
    `'; touch ${MARKER}; '`,
    `"; touch ${MARKER}; "`,
    `> ${MARKER}`,
    "'\\''",
    "\\",
    "$IFS",
    "*",
    "~",
    "--",
  );
  const hostileWord = fc
    .array(fc.oneof(word, hostileFragment), { maxLength: 4 })
    .map((parts) => parts.join(""));

  it("round-trips any argv of full-unicode words through /bin/sh", () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (argv) => {
        expect(wordsAfterShell(shellQuote(argv), dir)).toEqual(argv);
      }),
      { numRuns: 200 },
    );
  });

  it("never lets a word run a command, whatever it holds", () => {
    fc.assert(
      fc.property(fc.array(hostileWord, { minLength: 1, maxLength: 5 }), (argv) => {
        expect(wordsAfterShell(shellQuote(argv), dir)).toEqual(argv);
        expect(existsSync(MARKER)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
