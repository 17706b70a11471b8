/**
 * The real sources of the scrape-time metrics: the pollers' statuses, the SSH pool's
 * handshake counts, SQLite's counts.
 *
 * Pollers run only while someone watches, so a scrape takes a lease on every director:
 * they keep being polled at the configured interval while Prometheus scrapes, and are let
 * go LEASE_MS after the last scrape. A director not polled yet is awaited (at most
 * FIRST_POLL_WAIT_MS) so the first scrape already has its figures.
 */
import "server-only";
import { getConfig } from "@/server/config";
import { getDb } from "@/server/db";
import { consoleCounts } from "@/server/db/counts";
import { allDirectors } from "@/server/config/directors";
import { getPollers } from "@/server/live/registry";
import { getSshPool } from "@/server/db/ssh-pool";
import { getConsoleMetrics, type MetricSources } from "./registry";

const LEASE_MS = 10 * 60_000;
const FIRST_POLL_WAIT_MS = 5_000;

const lease = globalThis as typeof globalThis & {
  __lvsConsoleMetricsLease?: { offs: Array<() => void>; timer: ReturnType<typeof setTimeout> };
};

export const metricSources: MetricSources = {
  directors: () =>
    getConfig().clusters.flatMap((c) => c.directors.map((d) => getPollers().poller(d).current())),
  sshConnects: (directorId) => getSshPool().stats(directorId).connects,
  console: () => {
    try {
      return consoleCounts(getDb());
    } catch {
      return null;
    }
  },
};

function holdLease(): void {
  const held = lease.__lvsConsoleMetricsLease;
  if (held) clearTimeout(held.timer);
  const offs = held?.offs ?? allDirectors().map((d) => getPollers().watch(d, () => undefined));
  const timer = setTimeout(() => {
    lease.__lvsConsoleMetricsLease = undefined;
    offs.forEach((off) => off());
  }, LEASE_MS);
  timer.unref();
  lease.__lvsConsoleMetricsLease = { offs, timer };
}

/** Before a scrape: keep every director polled, and wait briefly for any first poll. */
export async function prepareScrape(): Promise<void> {
  const metrics = getConsoleMetrics();
  metrics.setSources(metricSources);
  holdLease();
  const pending = allDirectors()
    .map((d) => getPollers().poller(d))
    .filter((p) => p.polls === 0)
    .map((p) => p.pollOnce());
  if (pending.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(pending),
    new Promise((resolve) => {
      timer = setTimeout(resolve, FIRST_POLL_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}
