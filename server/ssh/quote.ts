/**
 * The one place where an argv becomes a command line for the remote POSIX shell.
 *
 * Commands stay argv arrays everywhere else; ssh2's exec takes a single string that the
 * remote user's shell parses, so every word is single-quoted here and nowhere else.
 * Pure: no ssh2 import, so the injection tests can run it under a local /bin/sh.
 */
import { ConsoleError } from "@/server/errors";

/**
 * Words made only of characters no POSIX shell treats specially stay bare, so operators
 * read `ipvsadm -e -t 203.0.113.10:80 ...` in previews, the audit log and errors. Every
 * other word is single-quoted: inside '...' the shell gives no character a meaning, and a
 * quote inside a word becomes '\'' (close, escaped quote, reopen). "=" is bare only after
 * the first word, where it cannot read as a variable assignment; "[", "]", "*", "?" and "~"
 * are never bare (globbing and tilde expansion).
 */
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new ConsoleError("INTERNAL", "cannot build a command line from an empty argv");
  }
  return argv
    .map((word, index) => {
      if (word.includes("\0")) {
        // A NUL ends a C string: the remote shell would silently cut the word short.
        throw new ConsoleError(
          "VALIDATION",
          `argument ${index} contains a NUL byte, which no shell can pass`,
          {
            argv: argv.map((w) => w.replaceAll("\0", "\\0").slice(0, 200)),
            index,
          },
        );
      }
      if (BARE.test(word) && (index > 0 || !word.includes("="))) return word;
      return `'${word.replaceAll("'", `'\\''`)}'`;
    })
    .join(" ");
}

export interface CommandLineOptions {
  /** Variables set through env(1) for the command; LC_ALL=C is always set, so output parses. */
  env?: Readonly<Record<string, string>>;
  /** Run through `sudo -n`: never prompt for a password (there is no terminal to answer it). */
  sudo?: boolean;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `[sudo -n --] env LC_ALL=C NAME=VALUE... argv...`, quoted by shellQuote.
 * env(1) goes inside sudo because sudo resets the environment.
 */
export function commandLine(argv: readonly string[], options: CommandLineOptions = {}): string {
  const program = argv[0];
  if (program === undefined) {
    throw new ConsoleError("INTERNAL", "cannot build a command line from an empty argv");
  }
  // env(1) would read a first word with "=" as one more assignment, or a leading "-" as its option.
  if (program.includes("=") || program.startsWith("-") || program === "") {
    throw new ConsoleError(
      "INTERNAL",
      `${JSON.stringify(program.slice(0, 64))} is not a program name`,
    );
  }
  const env: Record<string, string> = { ...options.env, LC_ALL: "C" };
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) {
      throw new ConsoleError(
        "INTERNAL",
        `${JSON.stringify(name.slice(0, 64))} is not an environment variable name`,
      );
    }
    return `${name}=${value}`;
  });
  const prefix = options.sudo ? ["sudo", "-n", "--"] : [];
  return shellQuote([...prefix, "env", ...assignments, ...argv]);
}

/**
 * A script sets the locale itself: `export` is a shell builtin, env(1) one more process,
 * and every process start costs a small director 40-70 ms.
 */
export const SCRIPT_LOCALE = "LC_ALL=C; export LC_ALL\n";

/**
 * The command line for one of the console's own FIXED scripts, with its values as
 * positional parameters (`set -- 'arg'...`, quoted by shellQuote). The login shell sshd
 * starts runs the script itself (every command line here already assumes a POSIX login
 * shell): an `sh -c` in between would be one more process. Under sudo, which runs one
 * program, it is `sudo -n -- sh -c SCRIPT sh ARGS...`. Either way LC_ALL=C comes first.
 */
export function scriptCommandLine(
  script: string,
  args: readonly string[] = [],
  options: Pick<CommandLineOptions, "sudo"> = {},
): string {
  const body = `${SCRIPT_LOCALE}${script}`;
  if (options.sudo) return shellQuote(["sudo", "-n", "--", "sh", "-c", body, "sh", ...args]);
  const set = args.length > 0 ? `set -- ${shellQuote(args)}\n` : "";
  return `${SCRIPT_LOCALE}${set}${script}`;
}
