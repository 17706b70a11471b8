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

type OwnerTarget = Parameters<SshPool["execScript"]>[0];

/** Errors of the connection itself, which the poll reports. */
const CONNECTION_CODES = new Set<ConsoleErrorCode>([
  "UNREACHABLE",
  "AUTH_FAILED",
  "HOST_KEY_UNKNOWN",
  "HOST_KEY_CHANGED",
]);

const globalForOwners = globalThis as typeof globalThis & {
  __lvsConsoleOwners?: WeakMap<SshPool, Map<string, OwnerInputs>>;
};
const byPool = (globalForOwners.__lvsConsoleOwners ??= new WeakMap<
  SshPool,
  Map<string, OwnerInputs>
>());

function inputsOf(pool: SshPool): Map<string, OwnerInputs> {
  let map = byPool.get(pool);
  if (!map) {
    map = new Map<string, OwnerInputs>();
    byPool.set(pool, map);
  }
  return map;
}

/**
 * Runs the owner script; resolves to null (never rejects) when it fails. A change flow's read
 * (no signal) is tried twice and goes in the "change" lane: one owner read that times out on
 * a loaded director, or waits behind its reads (connection tables, polls) until its timeout,
 * must not leave a change applied to the kernel with its rules file unsaved. The poller's
 * read (with its signal) is a read like the others, tried once: the next full poll reads again.
 */
export async function readOwner(
  pool: SshPool,
  director: OwnerTarget,
  signal?: AbortSignal,
  tries = signal ? 1 : 2,
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
      inputsOf(pool).set(director.id, inputs);
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
  const inputs = fresh ?? inputsOf(pool).get(directorId) ?? null;
  return inputs === null ? null : ownerView(inputs, kernel);
}
