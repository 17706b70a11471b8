/** The process-wide SSH pool, checking host keys against this console's trusted keys. */
import "server-only";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { sqliteTrustStore } from "./host-keys";

const globalForPool = globalThis as typeof globalThis & { __lvsConsoleSshPool?: SshPool };

/** Cached on globalThis so dev reloads do not leak connections. */
export function getSshPool(): SshPool {
  globalForPool.__lvsConsoleSshPool ??= createSshPool({ trust: sqliteTrustStore });
  return globalForPool.__lvsConsoleSshPool;
}
