import "server-only";
import { z } from "zod";
import { auditFilterSchema, getAuditEntry, listAudit, type AuditEntry } from "@/server/db/audit";
import { listOutsideEvents } from "@/server/db/outside";
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
    return withCommandLines(entry);
  }),
});
