/**
 * readSnapshot: one poll of one director, in one SSH round trip (see snapshot-script.ts).
 */
import "server-only";
import type { DirectorConfig } from "@/server/config";
import { isConsoleError } from "@/server/errors";
import type { IpvsTimeouts, IpvsadmVersion } from "@/server/ipvs/model";
import { getSshPool, type SshPool } from "@/server/ssh/pool";
import { parseSnapshot, SNAPSHOT_SCRIPT } from "./snapshot-script";
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
}

const globalForMeta = globalThis as typeof globalThis & { __lvsConsoleSnapshotMeta?: Map<string, Meta> };
const metaCache = (globalForMeta.__lvsConsoleSnapshotMeta ??= new Map<string, Meta>());

type SnapshotTarget = Pick<DirectorConfig, "clusterId"> & Parameters<SshPool["execScript"]>[0];

export async function readSnapshot(director: SnapshotTarget, options: ReadSnapshotOptions = {}): Promise<DirectorSnapshot> {
  const pool = options.pool ?? getSshPool();
  try {
    return await readOnce(director, options, pool);
  } catch (e) {
    // The views are read a few ms apart: a change landing in between makes them disagree.
    // Read again once rather than reporting the director as broken.
    if (isConsoleError(e, "PARSE_ERROR") && e.details.source === "merge") return readOnce(director, options, pool);
    throw e;
  }
}

async function readOnce(director: SnapshotTarget, options: ReadSnapshotOptions, pool: SshPool): Promise<DirectorSnapshot> {
  const connectsBefore = pool.stats(director.id).connects;
  const cached = metaCache.get(director.id);
  // connects counts finished handshakes: before the first one it is 0 and no cache matches.
  const full = !cached || cached.connects !== connectsBefore || connectsBefore === 0;
  const result = await pool.execScript(director, SNAPSHOT_SCRIPT, {
    args: [full ? "1" : "0"],
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
  if (full) {
    metaCache.set(director.id, {
      connects: pool.stats(director.id).connects,
      ipvsadm: snapshot.ipvsadm,
      timeouts: snapshot.timeouts,
    });
  }
  return snapshot;
}
