import "server-only";
import { listClusters } from "@/server/directors/inventory";
import { router, viewerProcedure } from "../init";

export const inventoryRouter = router({
  /** Clusters and directors, without secrets (no key paths, passphrase variables or fingerprints). */
  list: viewerProcedure.query(() => listClusters()),
});
