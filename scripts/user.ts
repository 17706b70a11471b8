/**
 * Manage console users in lvs-console.yaml (or LVS_CONSOLE_CONFIG, or --config FILE):
 *
 *   npm run user -- add NAME --role viewer|operator|admin [--generate]
 *   npm run user -- passwd NAME [--generate]
 *   npm run user -- role NAME viewer|operator|admin
 *   npm run user -- remove NAME
 *   npm run user -- list
 *
 * The password is asked twice without echo on a terminal, or read from the first line of
 * stdin otherwise; --generate makes one and prints it once. A running console notices the
 * change on its next request: a changed password or a removed user ends their sessions.
 */
import {
  addUser,
  checkPassword,
  ensureDemoAdmin,
  listUsers,
  parseRole,
  removeUser,
  setPassword,
  setRole,
  UserFileError,
} from "../server/auth/users";
import { generatePassword } from "../server/auth/password";

// Under npm run in a checkout, or the bundled bin/lvs-console-user.mjs of an installation.
const COMMAND = process.env.npm_lifecycle_event === "user" ? "npm run user --" : "lvs-console-user";
const USAGE = `usage: ${COMMAND} <command> [--config FILE]
  add NAME --role viewer|operator|admin [--generate]
  passwd NAME [--generate]
  role NAME viewer|operator|admin
  remove NAME
  list
  demo-admin            add an admin with a generated password unless one exists`;

interface Args {
  positional: string[];
  role: string | undefined;
  config: string;
  generate: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    positional: [],
    role: undefined,
    config: process.env.LVS_CONSOLE_CONFIG || "lvs-console.yaml",
    generate: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UserFileError(`${a} needs a value`);
      return v;
    };
    if (a === "--role") args.role = value();
    else if (a.startsWith("--role=")) args.role = a.slice(7);
    else if (a === "--config") args.config = value();
    else if (a.startsWith("--config=")) args.config = a.slice(9);
    else if (a === "--generate") args.generate = true;
    else if (a === "-h" || a === "--help") args.positional.unshift("help");
    else if (a.startsWith("-")) throw new UserFileError(`unknown option ${a}`);
    else args.positional.push(a);
  }
  return args;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = "";
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(null);
        if (ch === "\u0003" || ch === "\u0004") return done(new UserFileError("cancelled"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString("utf8");
  return (text.split(/\r?\n/)[0] ?? "").trimEnd();
}

async function obtainPassword(
  generate: boolean,
): Promise<{ password: string; generated: boolean }> {
  if (generate) return { password: generatePassword(), generated: true };
  if (!process.stdin.isTTY) {
    const password = await readStdinLine();
    checkPassword(password);
    return { password, generated: false };
  }
  const first = await promptHidden("Password: ");
  checkPassword(first);
  const second = await promptHidden("Password again: ");
  if (first !== second) throw new UserFileError("the passwords differ");
  return { password: first, generated: false };
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UserFileError(`missing ${what}\n${USAGE}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, name, extra] = args.positional;
  switch (command) {
    case "add": {
      const user = need(name, "NAME");
      const role = parseRole(need(args.role, "--role"));
      const { password, generated } = await obtainPassword(args.generate);
      await addUser(args.config, { name: user, role, password });
      console.log(`added ${user} (${role}) to ${args.config}`);
      if (generated) console.log(`password: ${password}`);
      return 0;
    }
    case "passwd": {
      const user = need(name, "NAME");
      if (!listUsers(args.config).some((u) => u.name === user))
        throw new UserFileError(`no user "${user}"`);
      const { password, generated } = await obtainPassword(args.generate);
      await setPassword(args.config, user, password);
      console.log(`changed the password of ${user}; their sessions end`);
      if (generated) console.log(`password: ${password}`);
      return 0;
    }
    case "role": {
      const user = need(name, "NAME");
      const role = parseRole(need(extra ?? args.role, "ROLE"));
      setRole(args.config, user, role);
      console.log(`${user} is now ${role}`);
      return 0;
    }
    case "remove": {
      const user = need(name, "NAME");
      removeUser(args.config, user);
      console.log(`removed ${user}; their sessions end`);
      return 0;
    }
    case "list": {
      const users = listUsers(args.config);
      if (users.length === 0) console.log("no users");
      for (const u of users)
        console.log(
          `${u.name.padEnd(24)} ${u.role.padEnd(9)} ${u.hasPassword ? "" : "(proxy sign-in only)"}`.trimEnd(),
        );
      return 0;
    }
    case "demo-admin": {
      const created = await ensureDemoAdmin(args.config);
      if (created) console.log(`added ${created.name} (admin)\npassword: ${created.password}`);
      else console.log("an admin with a password already exists");
      return 0;
    }
    case "help":
    case undefined:
      console.log(USAGE);
      return command === "help" ? 0 : 2;
    default:
      throw new UserFileError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`user: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof UserFileError ? 2 : 1);
  },
);
