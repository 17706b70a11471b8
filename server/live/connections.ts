/**
 * connections.list and connections.readNow: counts and one page of a director's connection
 * table, answered from the last background read (see conn-tables.ts for why the table is
 * never read per query).
 */
import "server-only";
import { getConfig } from "@/server/config";
import type { DirectorConfig } from "@/server/config";
import { getDirector } from "@/server/config/directors";
import { parseConnTableAsync, type ConnTable } from "@/server/ipvs/parse/conn-table";
import { getSshPool } from "@/server/db/ssh-pool";
import { CONN_TABLE_MAX_OUTPUT_BYTES, type SshPool } from "@/server/ssh/pool";
import {
  ConnTables,
  DEFAULT_CONN_TABLE_OPTIONS,
  memoOnRead,
  type TableReadStatus,
} from "./conn-tables";
import {
  connectionsPage,
  matchConnTable,
  type ConnectionsPage,
  type ServiceContext,
} from "@/server/ipvs/connections-query";
import type { ConnectionsQuery } from "@/server/ipvs/connections-filter";
import { getPollers } from "./registry";
import { readSnapshot } from "./snapshot";

export { connectionsQuerySchema, CONNECTION_STATES } from "@/server/ipvs/connections-filter";
export { type ConnectionsPage } from "@/server/ipvs/connections-query";

/** A page, and which read of the table it comes from. */
export type ConnectionsResult = ConnectionsPage & { read: TableReadStatus };

/**
 * One read of /proc/net/ip_vs_conn: `cat`, not ipvsadm -Lnc, which reads the same file and
 * formats it (4.7x slower at 100k entries in the lab). The timeout is long because the
 * read is quadratic in the table size; nobody waits on it but the first viewer. The only
 * command allowed the large output cap; a read, so it never holds the channel changes need.
 */
export async function readConnTable(
  pool: SshPool,
  director: DirectorConfig,
  signal: AbortSignal,
): Promise<ConnTable> {
  const result = await pool.execChecked(director, ["cat", "/proc/net/ip_vs_conn"], {
    timeoutMs: 300_000,
    signal,
    maxOutputBytes: CONN_TABLE_MAX_OUTPUT_BYTES,
    lane: "read",
  });
  return parseConnTableAsync(result.stdout);
}

/** The tables of a process (or of a test, with its own pool and interval). */
export function connTablesFor(pool: () => SshPool, minIntervalMs: () => number): ConnTables {
  return new ConnTables(() => ({
    ...DEFAULT_CONN_TABLE_OPTIONS,
    minIntervalMs: minIntervalMs(),
    read: (director, signal) => readConnTable(pool(), director, signal),
  }));
}

const globalForTables = globalThis as typeof globalThis & { __lvsConsoleConnTables?: ConnTables };

export function getConnTables(): ConnTables {
  globalForTables.__lvsConsoleConnTables ??= connTablesFor(
    getSshPool,
    () => getConfig().pollIntervalMs,
  );
  return globalForTables.__lvsConsoleConnTables;
}

/** `query` is validated already (connectionsQuerySchema: the router's input). */
export async function listConnections(
  query: ConnectionsQuery,
  options: { tables?: ConnTables; pool?: SshPool; user?: string } = {},
): Promise<ConnectionsResult> {
  const director = getDirector(query.directorId);
  const table = (options.tables ?? getConnTables()).table(director);
  // A readId pins that read for this user (capped per user and per director).
  const read = await table.get(query.readId, options.user);
  let context: ServiceContext | null = null;
  if (query.filter.service?.kind === "fwm") {
    // Only a firewall-mark filter needs the rules; the poller usually has them already.
    context =
      getPollers().find(director.id)?.current().snapshot ??
      (await readSnapshot(director, options.pool ? { pool: options.pool } : {}));
  }
  const match = memoOnRead(read, JSON.stringify(query.filter), () =>
    matchConnTable(read.table, query.filter, context),
  );
  return {
    ...connectionsPage(read.table, match, { offset: query.offset, limit: query.limit }),
    read: table.status(read),
  };
}

/** Reads the table now (the operator's "Read now"), or joins the read already running. */
export async function readConnectionsNow(
  directorId: string,
  options: { tables?: ConnTables } = {},
): Promise<TableReadStatus> {
  const table = (options.tables ?? getConnTables()).table(getDirector(directorId));
  return table.status(await table.refresh());
}
