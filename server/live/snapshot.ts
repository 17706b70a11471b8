/**
 * readSnapshot: one poll of one director, in one SSH round trip (see snapshot-script.ts).
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { isConsoleError } from "@/server/errors";
import type { IpvsTimeouts, IpvsadmVersion } from "@/server/ipvs/model";
import { getSshPool, type SshPool } from "@/server/ssh/pool";
import { hasTunnels, parseSnapshot, SNAPSHOT_SCRIPT } from "./snapshot-script";
import type { DirectorSnapshot } from "./types";

export interface ReadSnapshotOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The previous poll, for rates from counter deltas. */
  previous?: DirectorSnapshot | null;
  pool?: SshPool;
}

interface Meta {
  /** The pool's connect count when version and timeouts were read: a new connection reads them again. */
  connects: number;
  ipvsadm: IpvsadmVersion | null;
  timeouts: IpvsTimeouts | null;
  /** The last poll saw a tunnel member: read --tun-info again. */
  tunnels: boolean;
}

const globalForMeta = globalThis as typeof globalThis & { __lvsConsoleSnapshotMeta?: Map<string, Meta> };
const metaCache = (globalForMeta.__lvsConsoleSnapshotMeta ??= new Map<string, Meta>());

type SnapshotTarget = Pick<DirectorConfig, "clusterId"> & Parameters<SshPool["execScript"]>[0];

export async function readSnapshot(director: SnapshotTarget, options: ReadSnapshotOptions = {}): Promise<DirectorSnapshot> {
  const pool = options.pool ?? getSshPool();
  try {
    return await readOnce(director, options, pool, false);
  } catch (e) {
    // The views are read a few ms apart: a change landing in between makes them disagree,
    // and a new tunnel member needs --tun-info. Read again once (with it) rather than
    // reporting the director as broken.
    if (isConsoleError(e, "PARSE_ERROR") && e.details.source === "merge") return readOnce(director, options, pool, true);
    throw e;
  }
}

async function readOnce(director: SnapshotTarget, options: ReadSnapshotOptions, pool: SshPool, forceTunnels: boolean): Promise<DirectorSnapshot> {
  const connectsBefore = pool.stats(director.id).connects;
  const cached = metaCache.get(director.id);
  // connects counts finished handshakes: before the first one it is 0 and no cache matches.
  const full = !cached || cached.connects !== connectsBefore || connectsBefore === 0;
  const tunnels = full || forceTunnels || (cached?.tunnels ?? true) || (options.previous ? hasTunnels(options.previous.services) : false);
  const result = await pool.execScript(director, SNAPSHOT_SCRIPT, {
    args: [full ? "1" : "0", tunnels ? "1" : "0"],
    timeoutMs: options.timeoutMs ?? 15_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const takenAt = Date.now();
  const snapshot = parseSnapshot(result.stdout, {
    directorId: director.id,
    clusterId: director.clusterId,
    takenAt,
    previous: options.previous ?? null,
    cached: full ? null : (cached ?? null),
  });
  const meta: Meta = {
    connects: full ? pool.stats(director.id).connects : (cached?.connects ?? 0),
    ipvsadm: snapshot.ipvsadm,
    timeouts: snapshot.timeouts,
    tunnels: hasTunnels(snapshot.services),
  };
  metaCache.set(director.id, meta);
  return snapshot;
}
