import "server-only";
import { z } from "zod";
import { getDirector } from "@/server/config/directors";
import { applyDoctorFix, previewDoctorFix } from "@/server/directors/doctor-fix";
import type { FindingCode } from "@/server/ipvs/doctor";
import { allDoctorReports, lastDoctor, runDoctor } from "@/server/live/doctor";
import { directorStatus } from "@/server/live/registry";
import { ConsoleError } from "@/server/errors";
import { operatorProcedure, router, viewerProcedure } from "../init";

const directorIdSchema = z.string().min(1).max(64);
const fixCodeSchema = z.enum([
  "ip-forward-off",
  "send-redirects-on",
] as const satisfies readonly FindingCode[]);

export const doctorRouter = router({
  /** Runs the doctor now (one remote script) against the director's current rules. */
  check: viewerProcedure
    .input(z.object({ directorId: directorIdSchema }))
    .query(async ({ input }) => {
      const director = getDirector(input.directorId);
      const status = await directorStatus(director.id);
      if (!status.snapshot) {
        throw new ConsoleError(
          status.error?.code ?? "UNREACHABLE",
          status.error?.message ?? `${director.id} could not be read`,
          {
            directorId: director.id,
          },
        );
      }
      const report = await runDoctor(director, status.snapshot);
      return { at: report.at, findings: report.findings, elapsedMs: report.elapsedMs };
    }),

  /** The last report (from the poller's full reads or a check), without touching the director. */
  last: viewerProcedure.input(z.object({ directorId: directorIdSchema })).query(({ input }) => {
    getDirector(input.directorId);
    const { report, error } = lastDoctor(input.directorId);
    return { report, error };
  }),

  /** Counts per director of the last reports, for the fleet's badges. */
  summary: viewerProcedure.query(() =>
    allDoctorReports().map((r) => ({
      directorId: r.directorId,
      at: r.at,
      error: r.findings.filter((f) => f.severity === "error").length,
      warn: r.findings.filter((f) => f.severity === "warn").length,
      info: r.findings.filter((f) => f.severity === "info").length,
    })),
  ),

  previewFix: viewerProcedure
    .input(z.object({ directorId: directorIdSchema, code: fixCodeSchema }))
    .query(({ input }) => previewDoctorFix(input.directorId, input.code)),

  // "apply" is reserved by tRPC routers: hence "commitFix", like changes.commit.
  commitFix: operatorProcedure
    .input(
      z.object({
        directorId: directorIdSchema,
        code: fixCodeSchema,
        expectedVersion: z.string().min(1).max(128),
      }),
    )
    .mutation(({ ctx, input }) =>
      applyDoctorFix({
        directorId: input.directorId,
        code: input.code,
        expectedVersion: input.expectedVersion,
        user: { name: ctx.user.name, remoteAddress: ctx.remoteAddress },
      }),
    ),
});
