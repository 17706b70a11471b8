/** What the operator can start from the director page: each opens one dialog (action-dialogs.tsx). */
import {
  formatEndpoint,
  formatServiceKey,
  type Endpoint,
  type RealserverRule,
  type ServiceKey,
  type ServiceRule,
} from "@/server/ipvs/model";
import type { ChangeInput, DrainSelector } from "@/server/ipvs/change";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import {
  routeChange,
  routeDrain,
  type Route,
  type RouteContext,
} from "@/server/ipvs/lasting/route";
import type { DirectorSnapshot } from "@/server/live/types";
import type { RouterOutputs } from "@/components/trpc";

export type Action =
  | {
      kind: "change";
      change: ChangeInput;
      title: string;
      applyLabel?: string;
      destructive?: boolean;
    }
  | { kind: "realserverForm"; service: ServiceKey; existing?: RealserverRule }
  | { kind: "serviceForm"; existing?: ServiceRule }
  | { kind: "drain"; realserver: DrainSelector; service?: ServiceKey }
  | { kind: "lasting"; change: LastingChange; title: string }
  | { kind: "lastingUndrain"; service: ServiceKey; realserver: Endpoint }
  | { kind: "refused"; title: string; message: string }
  | { kind: "trust"; fingerprint: string };

/** A change that takes something away: its plan dialog applies with the verb, in red. */
export function destructiveChange(
  verb: "Delete" | "Remove",
  what: string,
  change: ChangeInput,
): Action {
  return { kind: "change", change, title: `${verb} ${what}`, applyLabel: verb, destructive: true };
}

/** The active drain of a realserver, for its row's badge and buttons. */
export type DrainOf = (
  rs: Endpoint,
) => Pick<RouterOutputs["drains"]["list"][number], "id" | "state"> | undefined;

/** What the routing needs from a director's snapshot; null before the first owner read. */
export function routeContext(snapshot: DirectorSnapshot | null): RouteContext | null {
  const owner = snapshot?.owner;
  if (!snapshot || !owner) return null;
  return {
    owned: owner.services,
    keepalivedOwnsNew: owner.keepalived?.running === true && owner.summary.kind === "keepalived",
    kernel: snapshot.services,
  };
}

/**
 * An ordinary action on a service keepalived owns becomes a lasting one (written into its
 * config on every director), so the operator needs no separate button; one the config cannot
 * carry is refused with the reason.
 */
export function routeAction(action: Action, ctx: RouteContext | null): Action {
  if (ctx === null) return action;
  let route: Route;
  let title: string;
  if (action.kind === "change") {
    route = routeChange(action.change, ctx);
    title = action.title;
  } else if (action.kind === "drain" && action.service && action.realserver.port !== undefined) {
    const rs = { address: action.realserver.address, port: action.realserver.port };
    route = routeDrain(action.service, rs, ctx);
    title = `Drain ${formatEndpoint(rs)} in ${formatServiceKey(action.service)}`;
  } else return action;
  if (route.way === "runtime") return action;
  if (route.way === "refused") return { kind: "refused", title, message: route.message };
  return { kind: "lasting", change: route.change, title: `${title} in keepalived's config` };
}
