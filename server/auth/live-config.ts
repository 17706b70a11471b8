/**
 * The `users:` and `auth:` sections, re-read whenever lvs-console.yaml changes on disk, so
 * `npm run user -- ...` applies to a running console without a restart (a removed user or
 * changed password ends that user's sessions on their next request). The rest of the config
 * is read once at start, as before.
 */
import "server-only";
import { readFileSync, statSync } from "node:fs";
import { parse } from "yaml";
import { getConfig, type Config } from "@/server/config";
import { getLog } from "@/server/log";
import { authConfigSchema, usersSchema } from "@/server/config/users-schema";

type AuthPart = Pick<Config, "users" | "auth">;

const state = globalThis as typeof globalThis & {
  __lvsConsoleAuthConfig?: { file: string; mtimeMs: number; size: number; value: AuthPart };
};

export function currentAuthConfig(): AuthPart {
  const config = getConfig();
  if (!config.file.startsWith("/")) return config;
  let stat;
  try {
    stat = statSync(/*turbopackIgnore: true*/ config.file);
  } catch {
    return state.__lvsConsoleAuthConfig?.value ?? config;
  }
  const cached = state.__lvsConsoleAuthConfig;
  if (cached?.file === config.file && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size)
    return cached.value;
  let value: AuthPart = cached?.value ?? config;
  try {
    const raw = parse(readFileSync(/*turbopackIgnore: true*/ config.file, "utf8")) as {
      users?: unknown;
      auth?: unknown;
    } | null;
    const users = usersSchema.safeParse(raw?.users);
    const auth = authConfigSchema.safeParse(raw?.auth);
    if (users.success && auth.success) value = { users: users.data, auth: auth.data };
    else
      getLog().warn(
        { event: "config.users_invalid", file: config.file },
        "users/auth changed but are invalid; keeping the previous ones",
      );
  } catch {
    getLog().warn(
      { event: "config.users_unreadable", file: config.file },
      "cannot re-read users/auth; keeping the previous ones",
    );
  }
  state.__lvsConsoleAuthConfig = {
    file: config.file,
    mtimeMs: stat.mtimeMs,
    size: stat.size,
    value,
  };
  return value;
}
