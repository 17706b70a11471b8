/** Row counts for /metrics: drains by state, audit rows by action and result. */
import type { Db } from "./index";

export interface ConsoleCountRows {
  drainsByState: Record<string, number>;
  auditByActionResult: Array<{ action: string; result: string; count: number }>;
}

export function consoleCounts(db: Db): ConsoleCountRows {
  const drains = db
    .prepare("SELECT state, count(*) AS count FROM drains GROUP BY state")
    .all() as Array<{ state: string; count: number }>;
  const audit = db
    .prepare("SELECT action, result, count(*) AS count FROM audit GROUP BY action, result")
    .all() as Array<{ action: string; result: string; count: number }>;
  const drainsByState: Record<string, number> = {
    draining: 0,
    drained: 0,
    undrained: 0,
    removed: 0,
  };
  for (const row of drains) drainsByState[row.state] = row.count;
  return { drainsByState, auditByActionResult: audit };
}
