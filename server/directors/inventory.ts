/**
 * The clusters and directors of lvs-console.yaml as the UI lists them (the lookups by id are
 * in server/config/directors.ts). What leaves the server (listClusters) carries no secrets: no key paths, no passphrase
 * variable names, no fingerprints.
 */
import "server-only";
import { getConfig, type DirectorConfig } from "@/server/config";
import { getTrustedHostKey } from "@/server/db/host-keys";
import { configuredPolicy, type HostKeyPolicy } from "@/server/ssh/host-keys";

export interface DirectorSummary {
  id: string;
  clusterId: string;
  host: string;
  port: number;
  user: string;
  sudo: boolean;
  hostKey: HostKeyPolicy;
  /** "user@host:port" of the jump host, or null. */
  jumpHost: string | null;
}

export interface ClusterSummary {
  id: string;
  name: string;
  directors: DirectorSummary[];
}

/** How a director's host key is checked; "trusted" when an admin accepted it in the UI. */
export function hostKeyPolicy(
  director: DirectorConfig,
  trusted: (id: string) => boolean = (id) => getTrustedHostKey(id) !== null,
): HostKeyPolicy {
  const configured = configuredPolicy(director);
  if (configured !== "none") return configured;
  return trusted(director.id) ? "trusted" : "none";
}

export function summariseDirector(
  director: DirectorConfig,
  trusted?: (id: string) => boolean,
): DirectorSummary {
  const jump = director.jumpHost;
  return {
    id: director.id,
    clusterId: director.clusterId,
    host: director.host,
    port: director.port,
    user: director.user,
    sudo: director.sudo,
    hostKey: hostKeyPolicy(director, trusted),
    jumpHost: jump ? `${jump.user}@${jump.host}:${jump.port}` : null,
  };
}

export function listClusters(trusted?: (id: string) => boolean): ClusterSummary[] {
  return getConfig().clusters.map((cluster) => ({
    id: cluster.id,
    name: cluster.name,
    directors: cluster.directors.map((d) => summariseDirector(d, trusted)),
  }));
}
