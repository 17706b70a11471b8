/**
 * readSnapshot: one read of one director, in one SSH round trip (see snapshot-script.ts).
 *
 * A caller that decides on the rules (changes, drains, verification) gets a FULL read, the
 * default. The poller asks for `mode: "poll"`: a light read, except on the first poll of a
 * connection, every `fullReadEvery`th poll, and whenever the light read sees the rules
 * differ from the last full read (then it reads everything again at once).
 */
import "server-only";
import { DEFAULT_FULL_READ_EVERY, type DirectorConfig } from "@/server/config/schema";
import { isConsoleError } from "@/server/errors";
import type { IpvsTimeouts, IpvsadmVersion } from "@/server/ipvs/model";
import { getSshPool } from "@/server/db/ssh-pool";
import type { SshPool } from "@/server/ssh/pool";
import { hasTunnels, parseSnapshot } from "./snapshot-parse";
import { snapshotArgs, SNAPSHOT_SCRIPT, type ReadKind, type ReadRequest } from "./snapshot-script";
import { ownerFor, readOwner } from "./owner";
import { slotOf } from "./spread";
import type { DirectorSnapshot } from "./types";

export interface ReadSnapshotOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The previous poll, for rates from counter deltas. */
  previous?: DirectorSnapshot | null;
  pool?: SshPool;
  /** "exact" (default): a full read. "poll": a light read when a recent full read allows it. */
  mode?: "exact" | "poll";
  /** For "poll": at most this many polls from one full read to the next (1 = always full). */
  fullReadEvery?: number;
  /** "change" for the reads a change decides on and verifies with (pool.ts: lanes); default "read". */
  lane?: "read" | "change";
}

/** What the reads of one director over one pool remember. */
interface ReadState {
  /** The pool's connect count when version and timeouts were read: a new connection reads them again. */
  connects: number;
  ipvsadm: IpvsadmVersion | null;
  timeouts: IpvsTimeouts | null;
  /** The last full read, which light reads take thresholds and tunnel types from. */
  base: DirectorSnapshot;
  /** Light reads since `base`. */
  lightReads: number;
  last: ReadRequest;
}

// Per pool: another pool (a test's, the bench's) has its own connections and counts.
const globalForReads = globalThis as typeof globalThis & {
  __lvsConsoleSnapshotReads?: WeakMap<SshPool, Map<string, ReadState>>;
};
const readStates = (globalForReads.__lvsConsoleSnapshotReads ??= new WeakMap<
  SshPool,
  Map<string, ReadState>
>());

function statesOf(pool: SshPool): Map<string, ReadState> {
  let states = readStates.get(pool);
  if (!states) {
    states = new Map<string, ReadState>();
    readStates.set(pool, states);
  }
  return states;
}

/** What the newest read of a director through `pool` asked the director for (bench, tests). */
export function lastRead(directorId: string, pool: SshPool = getSshPool()): ReadRequest | null {
  return statesOf(pool).get(directorId)?.last ?? null;
}

type SnapshotTarget = Pick<DirectorConfig, "clusterId"> & Parameters<SshPool["execScript"]>[0];

export async function readSnapshot(
  director: SnapshotTarget,
  options: ReadSnapshotOptions = {},
): Promise<DirectorSnapshot> {
  const pool = options.pool ?? getSshPool();
  try {
    return await readOnce(director, options, pool, false);
  } catch (e) {
    // The views are read a few ms apart: a change landing in between makes them disagree, a
    // new tunnel member needs --tun-info, and a light read that sees other rules than the
    // last full read needs the thresholds and tunnel types again. Read everything once more
    // rather than reporting the director as broken.
    if (isConsoleError(e, "PARSE_ERROR") && e.details.source === "merge")
      return readOnce(director, options, pool, true);
    throw e;
  }
}

function fullReadEvery(options: ReadSnapshotOptions): number {
  return Math.max(1, options.fullReadEvery ?? DEFAULT_FULL_READ_EVERY);
}

function isNewConnection(state: ReadState | undefined, connects: number): boolean {
  // connects counts finished handshakes: before the first one it is 0 and no state matches.
  return !state || state.connects !== connects || connects === 0;
}

function plan(
  state: ReadState | undefined,
  connects: number,
  options: ReadSnapshotOptions,
  retry: boolean,
): ReadRequest {
  const newConnection = isNewConnection(state, connects);
  const every = fullReadEvery(options);
  const light =
    options.mode === "poll" && !retry && !!state && !newConnection && state.lightReads + 1 < every;
  const kind: ReadKind = light ? "light" : "full";
  return {
    kind,
    // Without a full read to go by, read --tun-info: a director with tunnels would need a second read.
    tunnels: retry || !state || hasTunnels(state.base.services),
    // Version and timeouts are no rules: a change's fresh read need not repeat them.
    meta: newConnection || options.mode === "poll",
  };
}

async function readOnce(
  director: SnapshotTarget,
  options: ReadSnapshotOptions,
  pool: SshPool,
  retry: boolean,
): Promise<DirectorSnapshot> {
  const states = statesOf(pool);
  const connectsBefore = pool.stats(director.id).connects;
  const state = states.get(director.id);
  const request = plan(state, connectsBefore, options, retry);
  // The poller's full reads also read who owns the rules (owner.ts), in parallel.
  const ownerRead =
    request.kind === "full" && options.mode === "poll"
      ? readOwner(pool, director, options.signal)
      : null;
  const result = await pool.execScript(director, SNAPSHOT_SCRIPT, {
    args: snapshotArgs(request),
    timeoutMs: options.timeoutMs ?? 15_000,
    lane: options.lane ?? "read",
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const takenAt = Date.now();
  const metaRead = request.kind === "full" && request.meta;
  const snapshot = parseSnapshot(result.stdout, {
    directorId: director.id,
    clusterId: director.clusterId,
    takenAt,
    previous: options.previous ?? null,
    cached: metaRead ? null : (state ?? null),
    base: state?.base ?? null,
  });
  snapshot.owner = ownerFor(pool, director.id, snapshot, ownerRead ? await ownerRead : null);
  // A poller's first full read on a connection counts as the director's slot (spread.ts)
  // of light reads done: the fleet's full reads, connected together, then come spread out.
  const firstLightReads =
    options.mode === "poll" && isNewConnection(state, connectsBefore)
      ? slotOf(director.id, fullReadEvery(options))
      : 0;
  states.set(director.id, {
    connects: metaRead ? pool.stats(director.id).connects : (state?.connects ?? 0),
    ipvsadm: snapshot.ipvsadm,
    timeouts: snapshot.timeouts,
    base: request.kind === "full" ? snapshot : (state?.base ?? snapshot),
    lightReads: request.kind === "full" ? firstLightReads : (state?.lightReads ?? 0) + 1,
    last: request,
  });
  return snapshot;
}
