import "server-only";
import { z } from "zod";
import { auditFilterSchema, getAuditEntry, listAudit } from "@/server/db/audit";
import { ConsoleError } from "@/server/errors";
import { router, viewerProcedure } from "../init";

export const auditRouter = router({
  list: viewerProcedure
    .input(auditFilterSchema.optional())
    .query(({ input }) => listAudit(input ?? {})),

  get: viewerProcedure.input(z.object({ id: z.number().int().positive() })).query(({ input }) => {
    const entry = getAuditEntry(input.id);
    if (!entry)
      throw new ConsoleError("NOT_FOUND", `there is no audit entry ${input.id}`, { id: input.id });
    return entry;
  }),
});
