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
 * Programs that need no root: the console reads world-readable files with cat
 * (/proc/net/ip_vs_conn, its own sysctl.d files). Everything else it runs changes or lists
 * IPVS, sets sysctls or reads the firewall, which only root may do.
 */
const UNPRIVILEGED = new Set(["cat"]);

/** Whether `program` goes through `sudo -n --` on a sudo director. */
export function runsAsRoot(program: string, sudo: boolean | undefined): boolean {
  return sudo === true && !UNPRIVILEGED.has(program);
}

/**
 * `env LC_ALL=C NAME=VALUE... [sudo -n --] argv...`, quoted by shellQuote.
 * sudo runs the program itself, never a shell or env(1), so a sudoers rule can name exactly
 * the programs the console runs (docs/sudo.md). sudo resets the environment: the sudoers
 * lines keep LC_ALL (`env_keep += "LC_ALL"`); ipvsadm's output is not translated anyway.
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
  const sudo = runsAsRoot(program, options.sudo) ? SUDO : [];
  return shellQuote(["env", ...assignments, ...sudo, ...argv]);
}

const SUDO = ["sudo", "-n", "--"];

/**
 * One command line of a script's command list (apply-script.ts): the login shell's
 * environment already has LC_ALL=C, so no env(1), and `sudo -n --` as commandLine puts it.
 */
export function scriptLine(
  argv: readonly string[],
  options: Pick<CommandLineOptions, "sudo">,
): string {
  const program = argv[0];
  if (program === undefined) {
    throw new ConsoleError("INTERNAL", "cannot build a command line from an empty argv");
  }
  return shellQuote([...(runsAsRoot(program, options.sudo) ? SUDO : []), ...argv]);
}

/**
 * A script sets the locale itself: `export` is a shell builtin, env(1) one more process,
 * and every process start costs a small director 40-70 ms.
 */
export const SCRIPT_LOCALE = "LC_ALL=C; export LC_ALL\n";

export interface ScriptLineOptions {
  sudo?: boolean;
  /**
   * The script itself must run as root (the owner-file transaction writes keepalived's
   * files and reloads it): `sudo -n -- sh -c SCRIPT`. Only for what a sudoers rule limited
   * to single programs cannot do; docs/sudo.md says which features these are.
   */
  rootShell?: boolean;
}

/**
 * The command line for one of the console's own FIXED scripts, with its values as
 * positional parameters (`set -- 'arg'...`, quoted by shellQuote). The login shell sshd
 * starts runs the script itself (every command line here already assumes a POSIX login
 * shell): an `sh -c` in between would be one more process. The script runs as the login
 * user and puts `$asroot` in front of each program that needs root: empty for a root
 * login, `sudo -n --` on a sudo director, so sudo never runs a shell. Either way
 * LC_ALL=C comes first.
 */
export function scriptCommandLine(
  script: string,
  args: readonly string[] = [],
  options: ScriptLineOptions = {},
): string {
  if (options.sudo && options.rootShell) {
    return shellQuote([...SUDO, "sh", "-c", `${SCRIPT_LOCALE}asroot=\n${script}`, "sh", ...args]);
  }
  const asroot = options.sudo ? `asroot='${SUDO.join(" ")}'\n` : "asroot=\n";
  const set = args.length > 0 ? `set -- ${shellQuote(args)}\n` : "";
  return `${SCRIPT_LOCALE}${asroot}${set}${script}`;
}
