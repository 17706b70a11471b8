import "server-only";
import { z } from "zod";
import { auditFilterSchema, getAuditEntry, listAudit } from "@/server/db/audit";
import { listOutsideEvents } from "@/server/db/outside";
import { ConsoleError } from "@/server/errors";
import { router, viewerProcedure } from "../init";

export const auditRouter = router({
  list: viewerProcedure
    .input(auditFilterSchema.optional())
    .query(({ input }) => listAudit(input ?? {})),

  /** Changes made outside the console and drains they undid, newest first. */
  outside: viewerProcedure
    .input(
      z
        .object({
          directorId: z.string().min(1).max(200).optional(),
          clusterId: z.string().min(1).max(200).optional(),
          sinceMs: z.number().int().nonnegative().optional(),
          limit: z.number().int().min(1).max(200).optional(),
        })
        .optional(),
    )
    .query(({ input }) => listOutsideEvents(input ?? {})),

  get: viewerProcedure.input(z.object({ id: z.number().int().positive() })).query(({ input }) => {
    const entry = getAuditEntry(input.id);
    if (!entry)
      throw new ConsoleError("NOT_FOUND", `there is no audit entry ${input.id}`, { id: input.id });
    return entry;
  }),
});
