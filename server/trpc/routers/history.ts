import "server-only";
import { z } from "zod";
import { getDb } from "@/server/db";
import { getDrain } from "@/server/db/drains";
import { ConsoleError } from "@/server/errors";
import { drainCurve } from "@/server/live/drain-curve";
import { getPollers } from "@/server/live/registry";
import { findDirector } from "@/server/config/directors";
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import {
  COARSE,
  FINE,
  FINE_KEEP_MS,
  COARSE_KEEP_MS,
  getHistoryStore,
  type Resolution,
} from "@/server/live/history";
import { foldSeries } from "@/server/live/history-top";
import { router, viewerProcedure } from "../init";

const directorIdSchema = z.string().min(1).max(64);
/** A shorter window than the whole hour, for small charts (the fleet's sparklines). */
const minutesSchema = z.number().int().min(1).max(60).optional();

/**
 * The keys of a director's chart from its current snapshot: the director and its services,
 * or one service and its realservers. Null when there is no snapshot to go by.
 */
function seriesKeys(
  directorId: string,
  service: string | undefined,
): Array<{ service: string; realserver: string }> | null {
  const director = findDirector(directorId);
  const snapshot = director ? getPollers().poller(director).current().snapshot : null;
  if (!snapshot) return null;
  if (service === undefined)
    return [
      { service: "", realserver: "" },
      ...snapshot.services.map((s) => ({ service: formatServiceKey(s.key), realserver: "" })),
    ];
  const s = snapshot.services.find((x) => formatServiceKey(x.key) === service);
  return [
    { service, realserver: "" },
    ...(s?.realservers ?? []).map((r) => ({ service, realserver: formatEndpoint(r) })),
  ];
}

function window(range: "hour" | "day", minutes: number | undefined) {
  const hour = range === "hour";
  const resolution: Resolution = hour ? FINE : COARSE;
  const keep = hour ? FINE_KEEP_MS : COARSE_KEEP_MS;
  return {
    resolution,
    label: hour ? ("poll" as const) : ("minute" as const),
    since: Date.now() - Math.min(keep, (minutes ?? Infinity) * 60_000),
  };
}

export const historyRouter = router({
  /**
   * Rates and connection counts of a director, one of its services ("TCP 203.0.113.10:80"),
   * or one realserver of that service: every poll of the last hour, or per minute for a day.
   */
  series: viewerProcedure
    .input(
      z.object({
        directorId: directorIdSchema,
        service: z.string().max(80).default(""),
        realserver: z.string().max(80).default(""),
        range: z.enum(["hour", "day"]).default("hour"),
        minutes: minutesSchema,
      }),
    )
    .query(({ input }) => {
      const w = window(input.range, input.minutes);
      return {
        resolution: w.label,
        points: getHistoryStore(getDb()).read(
          { directorId: input.directorId, service: input.service, realserver: input.realserver },
          w.resolution,
          w.since,
        ),
      };
    }),

  /**
   * Several series of one director at once, for its charts: without `service`, the director
   * and each of its services; with it, that service and each of its realservers.
   */
  director: viewerProcedure
    .input(
      z.object({
        directorId: directorIdSchema,
        service: z.string().max(80).optional(),
        range: z.enum(["hour", "day"]).default("hour"),
        minutes: minutesSchema,
        /** Lines per chart: the parts that can be among any chart's top, the rest as one. */
        lines: z.number().int().min(2).max(1000).default(10),
      }),
    )
    .query(({ input }) => {
      const w = window(input.range, input.minutes);
      const store = getHistoryStore(getDb());
      const wanted = (s: { service: string; realserver: string }) =>
        input.service === undefined ? s.realserver === "" : s.service === input.service;
      // The series the director has now, each read by its key: a director with 1,000
      // realservers holds a million rows an hour, and the chart of its services needs 201
      // series of them. Without a snapshot (not polled yet), every series, filtered.
      const keys = seriesKeys(input.directorId, input.service);
      const series = keys
        ? keys.map((k) => ({
            ...k,
            points: store.read({ directorId: input.directorId, ...k }, w.resolution, w.since),
          }))
        : store.readDirector(input.directorId, w.resolution, w.since).filter(wanted);
      const shown = series.filter((s) => s.points.length > 0);
      const whole = (s: { service: string; realserver: string }) =>
        input.service === undefined ? s.service === "" : s.realserver === "";
      // The whole first as it is; its parts folded to what the charts can draw.
      return {
        resolution: w.label,
        series: [
          ...shown.filter(whole).map((s) => ({ ...s, others: 0 })),
          ...foldSeries(
            shown.filter((s) => !whole(s)),
            input.lines,
          ),
        ],
      };
    }),

  /** A drain's curve since it started (a little before), and its weight changes. */
  drain: viewerProcedure
    .input(z.object({ drainId: z.number().int().positive() }))
    .query(({ input }) => {
      const drain = getDrain(input.drainId);
      if (!drain)
        throw new ConsoleError("NOT_FOUND", `there is no drain ${input.drainId}`, {
          drainId: input.drainId,
        });
      return drainCurve(getHistoryStore(getDb()), drain, Date.now());
    }),
});
