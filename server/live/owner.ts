/**
 * The owner read's I/O: runs owner-script.ts on a director beside a poller's FULL read and
 * keeps its parsed result per director, so the light polls in between get an owner view
 * against their fresh kernel rules without another round trip. A failed owner read never
 * fails the poll: the snapshot then carries the last good view (or none).
 */
import "server-only";
import type { RuleSet } from "@/server/ipvs/model";
import type { SshPool } from "@/server/ssh/pool";
import { isConsoleError, type ConsoleErrorCode } from "@/server/errors";
import { directorLog } from "@/server/log";
import { DEFAULT_OWNER_READ, OWNER_SCRIPT, ownerArgs, parseOwnerOutput } from "./owner-script";
import { ownerInputs, ownerView, type DirectorOwner, type OwnerInputs } from "./owner-view";
import { Turns } from "./turns";

type OwnerTarget = Parameters<SshPool["execScript"]>[0];

/** Errors of the connection itself, which the poll reports. */
const CONNECTION_CODES = new Set<ConsoleErrorCode>([
  "UNREACHABLE",
  "AUTH_FAILED",
  "HOST_KEY_UNKNOWN",
  "HOST_KEY_CHANGED",
]);

interface PoolOwners {
  inputs: Map<string, OwnerInputs>;
  /** One owner read at a time per director (turns.ts says why). */
  turns: Turns<OwnerInputs | null>;
}

const globalForOwners = globalThis as typeof globalThis & {
  __lvsConsoleOwnerReads?: WeakMap<SshPool, PoolOwners>;
};
const byPool = (globalForOwners.__lvsConsoleOwnerReads ??= new WeakMap<SshPool, PoolOwners>());

function ownersOf(pool: SshPool): PoolOwners {
  let owners = byPool.get(pool);
  if (!owners) {
    owners = { inputs: new Map(), turns: new Turns() };
    byPool.set(pool, owners);
  }
  return owners;
}

/**
 * Runs the owner script; resolves to null (never rejects) when it fails or is skipped.
 * Owner reads of one director never overlap: two SIGUSR1s to keepalived at once can merge
 * into one dump, and the read that misses it polls for it until its timeout.
 * - A change flow's read (no signal) waits its turn, or joins the read queued next; it is
 *   tried twice and goes in the "change" lane: one owner read that times out on a loaded
 *   director, or waits behind its reads (connection tables, polls) until its timeout, must
 *   not leave a change applied to the kernel with its rules file unsaved.
 * - The poller's read (with its signal) is skipped while another runs or waits: the poll
 *   keeps the last view, and the read under way leaves the next one. It is a read like the
 *   others, tried once: the next full poll reads again.
 */
export function readOwner(
  pool: SshPool,
  director: OwnerTarget,
  signal?: AbortSignal,
  tries = signal ? 1 : 2,
): Promise<OwnerInputs | null> {
  const { turns } = ownersOf(pool);
  if (signal && turns.busy(director.id)) return Promise.resolve(null);
  return turns.run(director.id, () => attempts(pool, director, signal, tries));
}

async function attempts(
  pool: SshPool,
  director: OwnerTarget,
  signal: AbortSignal | undefined,
  tries: number,
): Promise<OwnerInputs | null> {
  for (let attempt = 1; attempt <= tries; attempt++) {
    const started = Date.now();
    try {
      const result = await pool.execScript(director, OWNER_SCRIPT, {
        args: ownerArgs(DEFAULT_OWNER_READ),
        timeoutMs: 10_000,
        lane: signal ? "read" : "change",
        ...(signal ? { signal } : {}),
      });
      const inputs = ownerInputs(parseOwnerOutput(result.stdout), Date.now(), Date.now() - started);
      ownersOf(pool).inputs.set(director.id, inputs);
      return inputs;
    } catch (err) {
      if (signal?.aborted) return null;
      // Kept in the log: the caller only learns "no owner view", and a slow or failing owner
      // read on a reachable director is what an operator needs to see to find why. A
      // director the console cannot reach or log in to is the poll's error already, logged
      // and shown there; the script (3 KB of argv in the error's details) is left out.
      const code = isConsoleError(err) ? err.code : "INTERNAL";
      if (!CONNECTION_CODES.has(code)) {
        directorLog(director).warn(
          {
            event: "owner_read_failed",
            code,
            error: err instanceof Error ? err.message : String(err),
            attempt,
            tries,
            ms: Date.now() - started,
          },
          "owner read failed",
        );
      }
    }
  }
  return null;
}

/**
 * The owner view for a director's current kernel rules: from `fresh` (this full read's
 * owner read) or the last one through `pool`; null before any owner read succeeded.
 */
export function ownerFor(
  pool: SshPool,
  directorId: string,
  kernel: RuleSet,
  fresh: OwnerInputs | null = null,
): DirectorOwner | null {
  const inputs = fresh ?? ownersOf(pool).inputs.get(directorId) ?? null;
  return inputs === null ? null : ownerView(inputs, kernel);
}
