/**
 * connections.list: counts and one page of the connection table, computed on the director
 * by one awk process (see connections-query.ts).
 */
import "server-only";
import { getDirector } from "@/server/directors/inventory";
import { getSshPool, type SshPool } from "@/server/ssh/pool";
import {
  connectionsArgv,
  parseConnectionsOutput,
  type ConnectionsPage,
  type ConnectionsQuery,
  type ServiceContext,
} from "./connections-query";
import { getPollers } from "./registry";
import { readSnapshot } from "./snapshot";

export {
  connectionsQuerySchema,
  CONNECTION_STATES,
  type ConnectionsPage,
} from "./connections-query";

/** `query` is validated already (connectionsQuerySchema: the router's input). */
export async function listConnections(
  query: ConnectionsQuery,
  options: { signal?: AbortSignal; pool?: SshPool } = {},
): Promise<ConnectionsPage> {
  const director = getDirector(query.directorId);
  const pool = options.pool ?? getSshPool();
  let context: ServiceContext | null = null;
  if (query.filter.service?.kind === "fwm") {
    // Only a firewall-mark filter needs the rules; the poller usually has them already.
    context =
      getPollers().find(director.id)?.current().snapshot ??
      (await readSnapshot(director, { pool }));
  }
  const argv = connectionsArgv(query.filter, { offset: query.offset, limit: query.limit }, context);
  const result = await pool.execChecked(director, argv, {
    timeoutMs: 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return parseConnectionsOutput(result.stdout, Date.now());
}
