import "server-only";
import { z } from "zod";
import { auditFilterSchema, getAuditEntry, listAudit, type AuditEntry } from "@/server/db/audit";
import { listOutsideEvents } from "@/server/db/outside";
import { ConsoleError } from "@/server/errors";
import { shellQuote } from "@/server/ssh/quote";
import { withoutOutput } from "@/server/db/audit-output";
import { router, viewerProcedure, type Role } from "../init";

/**
 * The entry with its commands as command lines to read and copy, quoted by the one quoter;
 * for a viewer without what the commands printed (audit-output.ts).
 */
function forRole(
  entry: AuditEntry,
  role: Role,
): AuditEntry & { commands: Record<string, string[]> } {
  const shown =
    role === "viewer"
      ? { ...entry, error: withoutOutput(entry.error), details: withoutOutput(entry.details) }
      : entry;
  return {
    ...shown,
    commands: Object.fromEntries(
      Object.entries(entry.argv).map(([directorId, argvs]) => [directorId, argvs.map(shellQuote)]),
    ),
  };
}

export const auditRouter = router({
  list: viewerProcedure.input(auditFilterSchema.optional()).query(({ ctx, input }) => {
    const page = listAudit(input ?? {}, undefined, ctx.user.role !== "viewer");
    return { ...page, entries: page.entries.map((e) => forRole(e, ctx.user.role)) };
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

  get: viewerProcedure
    .input(z.object({ id: z.number().int().positive() }))
    .query(({ ctx, input }) => {
      const entry = getAuditEntry(input.id);
      if (!entry)
        throw new ConsoleError("NOT_FOUND", `there is no audit entry ${input.id}`, {
          id: input.id,
        });
      return forRole(entry, ctx.user.role);
    }),
});
