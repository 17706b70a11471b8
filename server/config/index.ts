/**
 * lvs-console.yaml: read once at start, validated with zod. A bad file stops start-up with
 * one line per problem naming the file, the field path and what is wrong, e.g.
 * `lvs-console.yaml: clusters[0].directors[1].port: a port is a whole number from 1 to 65535`.
 */
import "server-only";
import { accessSync, constants, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import {
  configSchema,
  type ClusterConfig,
  type Config,
  type DirectorConfig,
  type JumpHostConfig,
} from "./schema";

export type { ClusterConfig, Config, DirectorConfig, JumpHostConfig } from "./schema";
export {
  configSchema,
  directorSchema,
  fingerprintSchema,
  FINGERPRINT,
  DEFAULT_FULL_READ_EVERY,
} from "./schema";

export const DEFAULT_CONFIG_FILE = "lvs-console.yaml";

export interface ConfigIssue {
  /** e.g. "clusters[0].directors[1].port"; "" for the file as a whole. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      issues
        .map((i) => (i.path ? `${file}: ${i.path}: ${i.message}` : `${file}: ${i.message}`))
        .join("\n"),
    );
  }
}

/** ["clusters", 0, "directors", 1, "port"] -> "clusters[0].directors[1].port" */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function issuesOf(error: z.ZodError, input: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...issue.path, key]),
          message: "unknown field (check the spelling)",
        });
      }
      continue;
    }
    const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
    out.push({
      path: formatPath(issue.path),
      message: missing ? `missing: ${issue.message}` : issue.message,
    });
  }
  return out;
}

function expandPath(path: string, baseDir: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

interface FileChecks {
  /** Check that key and known_hosts files are readable and passphrase variables are set. */
  checkFiles: boolean;
}

/**
 * Validates a parsed config object. Relative paths are taken relative to `baseDir` (the
 * directory holding the file), so the console can start from any working directory.
 */
export function configFromObject(
  input: unknown,
  file = "<inline>",
  baseDir = process.cwd(),
  checks: FileChecks = { checkFiles: true },
): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(file, issuesOf(parsed.error, input));
  const value = parsed.data;

  const problems: ConfigIssue[] = [];
  const readable = (path: string, at: string) => {
    if (!checks.checkFiles) return;
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      const code = e instanceof Error && "code" in e ? String(e.code) : "error";
      problems.push({ path: at, message: `cannot read ${path} (${code})` });
    }
  };
  const fixEndpoint = <
    T extends {
      privateKeyPath?: string | undefined;
      knownHostsPath?: string | undefined;
      passphraseEnv?: string | undefined;
    },
  >(
    endpoint: T,
    at: string,
  ): T => {
    const out = { ...endpoint };
    if (out.privateKeyPath !== undefined) {
      out.privateKeyPath = expandPath(out.privateKeyPath, baseDir);
      readable(out.privateKeyPath, `${at}.privateKeyPath`);
    }
    if (out.knownHostsPath !== undefined) {
      out.knownHostsPath = expandPath(out.knownHostsPath, baseDir);
      readable(out.knownHostsPath, `${at}.knownHostsPath`);
    }
    if (
      checks.checkFiles &&
      out.passphraseEnv !== undefined &&
      process.env[out.passphraseEnv] === undefined
    ) {
      problems.push({
        path: `${at}.passphraseEnv`,
        message: `the environment variable ${out.passphraseEnv} is not set`,
      });
    }
    return out;
  };

  const clusters: ClusterConfig[] = value.clusters.map((cluster, ci) => ({
    id: cluster.id,
    name: cluster.name ?? cluster.id,
    directors: cluster.directors.map((director, di): DirectorConfig => {
      const at = `clusters[${ci}].directors[${di}]`;
      const fixed = fixEndpoint(director, at);
      const jumpHost: JumpHostConfig | undefined =
        director.jumpHost === undefined
          ? undefined
          : fixEndpoint(director.jumpHost, `${at}.jumpHost`);
      return { ...fixed, jumpHost, clusterId: cluster.id };
    }),
  }));
  if (problems.length > 0) throw new ConfigError(file, problems);

  return {
    file,
    pollIntervalMs: value.pollIntervalMs,
    fullReadEvery: value.fullReadEvery,
    dataDir: expandPath(value.dataDir, baseDir),
    clusters,
    users: value.users,
    auth: value.auth,
    metrics: value.metrics,
  };
}

/** Parses YAML text; syntax errors name the line and column. */
export function configFromText(
  text: string,
  file: string,
  baseDir: string,
  checks?: FileChecks,
): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `line ${pos.line}, column ${pos.col}: ` : "";
        const first = (e.message.split("\n")[0] ?? "invalid YAML").replace(
          / at line \d+, column \d+:?$/,
          "",
        );
        return { path: "", message: `${where}${first}` };
      }),
    );
  }
  return configFromObject(doc.toJS() as unknown, file, baseDir, checks);
}

/** The file to read: LVS_CONSOLE_CONFIG, else lvs-console.yaml in the working directory. */
export function configPath(): string {
  return process.env.LVS_CONSOLE_CONFIG || DEFAULT_CONFIG_FILE;
}

export function loadConfig(path: string = configPath()): Config {
  // The config is the operator's file, chosen at run time: tell the bundler not to trace
  // it (it would otherwise copy the whole project into the server output).
  const absolute = resolve(/*turbopackIgnore: true*/ path);
  let text: string;
  try {
    text = readFileSync(/*turbopackIgnore: true*/ absolute, "utf8");
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : "error";
    throw new ConfigError(path, [
      {
        path: "",
        message:
          code === "ENOENT"
            ? `no such file (${absolute}); create it from lvs-console.example.yaml or set LVS_CONSOLE_CONFIG`
            : `cannot read the file (${code})`,
      },
    ]);
  }
  const config = configFromText(text, path, dirname(absolute));
  return { ...config, file: absolute };
}

const cache = globalThis as typeof globalThis & { __lvsConsoleConfig?: Config };

/** The config of this process, read on first use and cached (across dev reloads). */
export function getConfig(): Config {
  cache.__lvsConsoleConfig ??= loadConfig();
  return cache.__lvsConsoleConfig;
}

/** Replaces the cached config (tests, tools that build one in memory). */
export function setConfig(config: Config | undefined): void {
  cache.__lvsConsoleConfig = config;
}
