import "server-only";
import { z } from "zod";
import { fingerprintSchema } from "@/server/config";
import { trustHostKey } from "@/server/directors/trust";
import { adminProcedure, router } from "../init";

export const hostKeysRouter = router({
  /**
   * The explicit accept step after HOST_KEY_UNKNOWN; recorded in the audit log. `replaces` is
   * the fingerprint trusted now (null for a first trust): a stale one is a CONFLICT.
   */
  trust: adminProcedure
    .input(
      z.object({
        directorId: z.string().min(1).max(64),
        fingerprint: fingerprintSchema,
        replaces: fingerprintSchema.nullable(),
      }),
    )
    .mutation(({ ctx, input }) => {
      trustHostKey(input.directorId, input.fingerprint, input.replaces, ctx.actor);
      return { ok: true as const };
    }),
});
