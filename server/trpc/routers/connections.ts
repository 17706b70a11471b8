import "server-only";
import { z } from "zod";
import {
  connectionsQuerySchema,
  listConnections,
  readConnectionsNow,
} from "@/server/live/connections";
import { router, viewerProcedure } from "../init";

export const connectionsRouter = router({
  /** Counts and one page of the connection table, filtered on the last read of it. */
  list: viewerProcedure
    .input(connectionsQuerySchema)
    .query(({ ctx, input }) => listConnections(input, { user: ctx.user.name })),
  /**
   * Reads the table now instead of at the next scheduled read. A mutation because it makes
   * the director work (the read is quadratic in the table size); viewers may ask for it.
   */
  readNow: viewerProcedure
    .input(z.object({ directorId: z.string().min(1).max(64) }))
    .mutation(({ input }) => readConnectionsNow(input.directorId)),
});
