/** The clusters and directors of lvs-console.yaml, looked up by id. */
import "server-only";
import { ConsoleError } from "@/server/errors";
import { getConfig } from "./index";
import type { ClusterConfig, DirectorConfig } from "./schema";

export function getCluster(clusterId: string): ClusterConfig {
  const cluster = getConfig().clusters.find((c) => c.id === clusterId);
  if (!cluster)
    throw new ConsoleError("NOT_FOUND", `there is no cluster ${clusterId}`, { clusterId });
  return cluster;
}

export function getDirector(directorId: string): DirectorConfig {
  for (const cluster of getConfig().clusters) {
    const director = cluster.directors.find((d) => d.id === directorId);
    if (director) return director;
  }
  throw new ConsoleError("NOT_FOUND", `there is no director ${directorId}`, { directorId });
}

export function allDirectors(): DirectorConfig[] {
  return getConfig().clusters.flatMap((c) => c.directors);
}
