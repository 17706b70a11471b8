import type { FleetSummary } from "@/server/live/fleet-summary";

/**
 * A push merged into the summary before: a full push replaces it, a partial one replaces
 * only the directors (and their clusters' rulesDiffer) it holds. Unchanged directors and
 * clusters keep their objects, so their rows can skip rendering.
 */
export function mergeFleetSummary(
  before: FleetSummary | undefined,
  push: FleetSummary,
): FleetSummary {
  if (push.full || !before) return push;
  const changed = new Map(push.clusters.map((c) => [c.id, c]));
  return {
    at: push.at,
    full: true,
    clusters: before.clusters.map((cluster) => {
      const update = changed.get(cluster.id);
      if (!update) return cluster;
      const byId = new Map(update.directors.map((d) => [d.directorId, d]));
      return {
        ...cluster,
        rulesDiffer: update.rulesDiffer,
        directors: cluster.directors.map((d) => byId.get(d.directorId) ?? d),
      };
    }),
  };
}
