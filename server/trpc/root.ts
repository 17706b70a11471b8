import "server-only";
import { router, publicProcedure } from "./init";
import { auditRouter } from "./routers/audit";
import { authRouter } from "./routers/auth";
import { changesRouter } from "./routers/changes";
import { drainsRouter } from "./routers/drains";
import { connectionsRouter } from "./routers/connections";
import { historyRouter } from "./routers/history";
import { doctorRouter } from "./routers/doctor";
import { hostKeysRouter } from "./routers/hostKeys";
import { inventoryRouter } from "./routers/inventory";
import { lastingRouter } from "./routers/lasting";
import { liveRouter } from "./routers/live";
import { pairRouter } from "./routers/pair";

/**
 * The root router. Each domain has its own router file under ./routers; add one line here
 * per router.
 */
export const appRouter = router({
  health: publicProcedure.query(() => ({ ok: true as const, at: Date.now() })),
  auth: authRouter,
  changes: changesRouter,
  drains: drainsRouter,
  audit: auditRouter,
  inventory: inventoryRouter,
  live: liveRouter,
  connections: connectionsRouter,
  hostKeys: hostKeysRouter,
  history: historyRouter,
  doctor: doctorRouter,
  lasting: lastingRouter,
  pair: pairRouter,
});

export type AppRouter = typeof appRouter;
