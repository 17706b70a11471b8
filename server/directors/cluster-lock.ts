/**
 * One apply at a time per cluster, so two operators' commands never interleave (cached on
 * globalThis so dev reloads keep the locks).
 */
import "server-only";

const globalForLocks = globalThis as unknown as { lvsClusterLocks?: Map<string, Promise<unknown>> };
const locks: Map<string, Promise<unknown>> = (globalForLocks.lvsClusterLocks ??= new Map<
  string,
  Promise<unknown>
>());

/** Runs `fn` after every earlier apply on the same cluster has finished. */
export async function withClusterLock<T>(clusterId: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(clusterId) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  locks.set(clusterId, settled);
  try {
    return await run;
  } finally {
    if (locks.get(clusterId) === settled) locks.delete(clusterId);
  }
}
