/**
 * The console's one logger (pino). Under NODE_ENV=production: one JSON object per line on
 * stdout (journald keeps them), with `level` as a word, `time` as ISO 8601, `event` naming
 * what happened, and `director`, `cluster`, `user`, `requestId` where they apply. Otherwise
 * the same records, pretty-printed for a terminal. LOG_LEVEL sets the level (default info; silent under vitest).
 *
 * Secrets: config secrets are `Secret` objects that serialise as "[secret]"; on top of that
 * any field named like a credential is censored wherever it appears (REDACT below), so a
 * careless `log.info({ input })` still cannot write a password.
 */
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

const SECRET_KEYS = [
  "password",
  "newPassword",
  "passphrase",
  "passwordHash",
  "token",
  "privateKey",
  "secret",
  "authorization",
  "cookie",
  "set-cookie",
];

/** pino redact paths: each secret key at the top, one level down, and in request headers. */
export const REDACT: string[] = [
  ...SECRET_KEYS.map((k) => `["${k}"]`),
  ...SECRET_KEYS.map((k) => `*["${k}"]`),
  ...SECRET_KEYS.map((k) => `*.headers["${k}"]`),
];

export interface LoggerOptions {
  /** JSON lines (production) or pretty text (development). */
  json: boolean;
  level?: string;
  /** Where the lines go (tests); stdout by default. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? "info",
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT, censor: "[redacted]" },
    serializers: { err: pino.stdSerializers.err },
  };
  if (options.destination) return pino(settings, options.destination);
  if (options.json) return pino(settings, pino.destination({ dest: 1, sync: true }));
  return pino(
    settings,
    pretty({ sync: true, colorize: process.stdout.isTTY, translateTime: "SYS:HH:MM:ss.l" }),
  );
}

const globalForLog = globalThis as typeof globalThis & { __lvsConsoleLog?: Logger };

/** The process's logger (cached on globalThis so dev reloads do not stack streams). */
export function getLog(): Logger {
  globalForLog.__lvsConsoleLog ??= createLogger({
    json: process.env.NODE_ENV === "production",
    // Unit tests exercise failures on purpose: quiet unless LOG_LEVEL asks.
    level: process.env.LOG_LEVEL || (process.env.NODE_ENV === "test" ? "silent" : "info"),
  });
  return globalForLog.__lvsConsoleLog;
}

/** A child logger whose lines all carry the director (and its cluster, when known). */
export function directorLog(director: { id: string; clusterId?: string }): Logger {
  return getLog().child(
    director.clusterId === undefined
      ? { director: director.id }
      : { director: director.id, cluster: director.clusterId },
  );
}
