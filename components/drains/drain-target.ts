/** A drain's realserver and the weights recorded when it started, as the drain views show them. */
import type { ServiceKey } from "@/server/ipvs/model";

/** A weight recorded when the drain started: per director, service and member port. */
export interface Original {
  directorId: string;
  service: ServiceKey;
  port: number;
  weight: number;
}

/** A drain's realserver: its address, and its port when the drain was for one port only. */
export interface DrainTarget {
  address: string;
  port: number | null;
}

export function formatTarget(rs: DrainTarget): string {
  return rs.port === null ? rs.address : `${rs.address}:${rs.port}`;
}
