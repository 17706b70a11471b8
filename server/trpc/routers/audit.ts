import "server-only";
import { z } from "zod";
import { auditFilterSchema, getAuditEntry, listAudit, type AuditEntry } from "@/server/db/audit";
import { ConsoleError } from "@/server/errors";
import { shellQuote } from "@/server/ssh/quote";
import { router, viewerProcedure } from "../init";

/** The entry with its commands as command lines to read and copy, quoted by the one quoter. */
function withCommandLines(entry: AuditEntry): AuditEntry & { commands: Record<string, string[]> } {
  return {
    ...entry,
    commands: Object.fromEntries(
      Object.entries(entry.argv).map(([directorId, argvs]) => [directorId, argvs.map(shellQuote)]),
    ),
  };
}

export const auditRouter = router({
  list: viewerProcedure.input(auditFilterSchema.optional()).query(({ input }) => {
    const page = listAudit(input ?? {});
    return { ...page, entries: page.entries.map(withCommandLines) };
  }),

  get: viewerProcedure.input(z.object({ id: z.number().int().positive() })).query(({ input }) => {
    const entry = getAuditEntry(input.id);
    if (!entry)
      throw new ConsoleError("NOT_FOUND", `there is no audit entry ${input.id}`, { id: input.id });
    return withCommandLines(entry);
  }),
});
