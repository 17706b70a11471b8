import "server-only";
import { z } from "zod";
import { changeSchema } from "@/server/ipvs/change";
import { applyChange, previewChange } from "@/server/directors/changes";
import { previewRulesFiles } from "@/server/directors/rules-persist";
import { operatorProcedure, router, viewerProcedure } from "../init";

const clusterIdSchema = z.string().min(1).max(64);
/** directorId -> the version hash the operator saw (from a preview or the live view). */
export const expectedVersionsSchema = z.record(z.string().max(64), z.string().max(128));

/**
 * A drain or undrain must go through drains.start / drains.undrain, which record the
 * original weights and the drain's state; committed as a plain change it could never be
 * undone. Previewing one here is fine (the undrain dialog does).
 */
const committableChangeSchema = changeSchema.refine(
  (c) => c.kind !== "drain" && c.kind !== "undrain",
  {
    message: "drains go through drains.start and drains.undrain, which record the original weights",
  },
);

export const changesRouter = router({
  preview: viewerProcedure
    .input(z.object({ clusterId: clusterIdSchema, change: changeSchema }))
    .query(({ input }) => previewChange(input.clusterId, input.change)),

  /** Rules-file directors: the file's diff the change brings, and whether it differed before. */
  rulesFiles: viewerProcedure
    .input(z.object({ clusterId: clusterIdSchema, change: changeSchema }))
    .query(({ input }) => previewRulesFiles(input.clusterId, input.change)),

  // "apply" is a reserved word of tRPC routers (the client proxy is a function): hence "commit".
  commit: operatorProcedure
    .input(
      z.object({
        clusterId: clusterIdSchema,
        change: committableChangeSchema,
        expectedVersions: expectedVersionsSchema,
        /** Rules-file directors: save the running rules after the change, or leave the file. */
        rulesFile: z.enum(["save", "leave"]).default("save"),
        /** directorId -> the rules file's sha256 as previewed (changes.rulesFiles). */
        expectedRulesFiles: z.record(z.string().max(64), z.string().max(128)).optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      applyChange({
        clusterId: input.clusterId,
        change: input.change,
        expectedVersions: input.expectedVersions,
        user: ctx.actor,
        rulesFile: input.rulesFile,
        ...(input.expectedRulesFiles ? { expectedRulesFiles: input.expectedRulesFiles } : {}),
      }),
    ),
});
