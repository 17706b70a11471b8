/** What the operator can start from the director page: each opens one dialog (action-dialogs.tsx). */
import type { RealserverRule, ServiceKey, ServiceRule } from "@/server/ipvs/model";
import type { ChangeInput } from "@/server/ipvs/planner";
import type { LastingChange } from "@/server/ipvs/lasting/plan";

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
  | { kind: "drain"; realserver: { address: string; port?: number } }
  | { kind: "lasting"; change: LastingChange; title: string }
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
export type DrainOf = (rs: {
  address: string;
  port: number;
}) => { id: number; state: string } | undefined;
