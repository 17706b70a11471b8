/**
 * A drain's curve from the history (history.ts): ActiveConn, InActConn and PersistConn of
 * the drained realserver, summed over every (director, service, port) the drain recorded,
 * from a little before the drain started, so a reload or a restart of the console still
 * shows the whole curve and the moment the weight went to 0.
 */
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import type { Drain } from "@/server/db/drains";
import type { HistoryPoint, HistoryStore } from "./history";

/** How much of the time before the drain the curve shows (the level it fell from). */
export const DRAIN_LEAD_MS = 30_000;

export interface DrainCurvePoint {
  at: number;
  active: number;
  inactive: number;
  persistent: number;
}

export interface DrainCurve {
  points: DrainCurvePoint[];
  /** Weight changes the drain made: to 0 at the start, back to the recorded weight on undrain. */
  marks: Array<{ at: number; label: string }>;
}

type Series = ReadonlyArray<Pick<HistoryPoint, "at" | "active" | "inactive" | "persistent">>;

/**
 * Sums several series whose polls are not aligned (one per director): at every poll time,
 * each series counts with its newest value at or before that time, as the live progress
 * counts every director's newest snapshot. Series without a value yet count 0.
 */
export function sumSeries(series: readonly Series[]): DrainCurvePoint[] {
  const events = series.flatMap((s, i) => s.map((p) => ({ i, p }))).sort((a, b) => a.p.at - b.p.at);
  const latest: Array<Series[number] | undefined> = series.map(() => undefined);
  const out: DrainCurvePoint[] = [];
  for (const { i, p } of events) {
    latest[i] = p;
    const point = { at: p.at, active: 0, inactive: 0, persistent: 0 };
    for (const l of latest) {
      if (!l) continue;
      point.active += l.active;
      point.inactive += l.inactive;
      point.persistent += l.persistent;
    }
    // Rows of one poll share their time: the last of them carries the sum.
    if (out[out.length - 1]?.at === p.at) out[out.length - 1] = point;
    else out.push(point);
  }
  return out;
}

export function drainCurve(
  store: Pick<HistoryStore, "readSpan">,
  drain: Pick<Drain, "realserver" | "original" | "startedAt" | "updatedAt" | "state">,
  now: number,
): DrainCurve {
  const since = drain.startedAt - DRAIN_LEAD_MS;
  const ended = drain.state === "undrained" || drain.state === "removed";
  const series = drain.original.map((o) =>
    store
      .readSpan(
        {
          directorId: o.directorId,
          service: formatServiceKey(o.service),
          realserver: formatEndpoint({ address: drain.realserver.address, port: o.port }),
        },
        since,
        now,
      )
      .filter((p) => !ended || p.at <= drain.updatedAt),
  );
  const marks = [{ at: drain.startedAt, label: "weight 0" }];
  if (drain.state === "undrained") marks.push({ at: drain.updatedAt, label: "weight restored" });
  if (drain.state === "removed") marks.push({ at: drain.updatedAt, label: "removed" });
  return { points: sumSeries(series), marks };
}
