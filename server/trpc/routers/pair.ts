import "server-only";
import { z } from "zod";
import { getCluster } from "@/server/config/directors";
import { applyPairSync, previewPairSync, readPairDiff } from "@/server/directors/pair";
import {
  applyRulesFileAction,
  previewRestore,
  previewSave,
} from "@/server/directors/rules-file-flow";
import { operatorProcedure, router, viewerProcedure } from "../init";

const idSchema = z.string().min(1).max(64);
const versionSchema = z.string().min(1).max(128);
const pairSchema = z.object({ clusterId: idSchema, source: idSchema, target: idSchema });
const rulesActionSchema = z.enum(["save", "restore"]);

/**
 * The pair kept identical (diff, "make B like A") and a director's boot rules file (save the
 * running rules to it, restore the kernel from it): previews, then applies with the
 * previewed versions.
 */
export const pairRouter = router({
  /** What differs between the cluster's two directors (or the two named); null: no pair. */
  diff: viewerProcedure
    .input(z.object({ clusterId: idSchema, a: idSchema.optional(), b: idSchema.optional() }))
    .query(({ input }) => {
      if (getCluster(input.clusterId).directors.length < 2) return null;
      return readPairDiff(
        input.clusterId,
        input.a !== undefined && input.b !== undefined ? { a: input.a, b: input.b } : undefined,
      );
    }),

  syncPreview: viewerProcedure
    .input(pairSchema)
    .query(({ input }) => previewPairSync(input.clusterId, input.source, input.target)),

  sync: operatorProcedure
    .input(pairSchema.extend({ expectedVersions: z.record(idSchema, versionSchema) }))
    .mutation(({ ctx, input }) =>
      applyPairSync({
        clusterId: input.clusterId,
        sourceId: input.source,
        targetId: input.target,
        expectedVersions: input.expectedVersions,
        user: { name: ctx.user.name, remoteAddress: ctx.remoteAddress },
      }),
    ),

  rulesPreview: viewerProcedure
    .input(z.object({ directorId: idSchema, action: rulesActionSchema }))
    .query(({ input }) =>
      input.action === "save" ? previewSave(input.directorId) : previewRestore(input.directorId),
    ),

  rulesApply: operatorProcedure
    .input(
      z.object({ directorId: idSchema, action: rulesActionSchema, expectedVersion: versionSchema }),
    )
    .mutation(({ ctx, input }) =>
      applyRulesFileAction({
        ...input,
        user: { name: ctx.user.name, remoteAddress: ctx.remoteAddress },
      }),
    ),
});
