import "server-only";
import { z } from "zod";
import { fingerprintSchema } from "@/server/config";
import { trustHostKey } from "@/server/directors/trust";
import { adminProcedure, router } from "../init";

export const hostKeysRouter = router({
  /** The explicit accept step after HOST_KEY_UNKNOWN; recorded in the audit log. */
  trust: adminProcedure
    .input(z.object({ directorId: z.string().min(1).max(64), fingerprint: fingerprintSchema }))
    .mutation(async ({ ctx, input }) => {
      await trustHostKey(input.directorId, input.fingerprint, ctx.actor);
      return { ok: true as const };
    }),
});
