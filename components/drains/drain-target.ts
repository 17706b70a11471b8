/** A drain's realserver and the weights recorded when it started, as the drain views show them. */
import type { RouterOutputs } from "@/components/trpc";

type Drain = RouterOutputs["drains"]["get"];

/** A weight recorded when the drain started: per director, service and member port. */
export type Original = Drain["original"][number];

/** A drain's realserver: its address, and its port when the drain was for one port only. */
export type DrainTarget = Drain["realserver"];

export function formatTarget(rs: DrainTarget): string {
  return rs.port === null ? rs.address : `${rs.address}:${rs.port}`;
}
