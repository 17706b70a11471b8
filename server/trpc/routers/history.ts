import "server-only";
import { z } from "zod";
import { getDb } from "@/server/db";
import { COARSE, FINE, FINE_KEEP_MS, COARSE_KEEP_MS, getHistoryStore } from "@/server/live/history";
import { router, viewerProcedure } from "../init";

export const historyRouter = router({
  /**
   * Rates and connection counts of a director, one of its services ("TCP 203.0.113.10:80"),
   * or one realserver of that service: every poll of the last hour, or per minute for a day.
   */
  series: viewerProcedure
    .input(
      z.object({
        directorId: z.string().min(1).max(64),
        service: z.string().max(80).default(""),
        realserver: z.string().max(80).default(""),
        range: z.enum(["hour", "day"]).default("hour"),
      }),
    )
    .query(({ input }) => {
      const hour = input.range === "hour";
      const since = Date.now() - (hour ? FINE_KEEP_MS : COARSE_KEEP_MS);
      return {
        resolution: hour ? ("poll" as const) : ("minute" as const),
        points: getHistoryStore(getDb()).read(
          { directorId: input.directorId, service: input.service, realserver: input.realserver },
          hour ? FINE : COARSE,
          since,
        ),
      };
    }),
});
