import "server-only";
import { connectionsQuerySchema, listConnections } from "@/server/live/connections";
import { router, viewerProcedure } from "../init";

export const connectionsRouter = router({
  /** Counts and one page of the connection table, filtered on the director. */
  list: viewerProcedure
    .input(connectionsQuerySchema)
    .query(({ input, signal }) => listConnections(input, signal ? { signal } : {})),
});
