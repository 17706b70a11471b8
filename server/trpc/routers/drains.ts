import "server-only";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { drainSelectorSchema } from "@/server/ipvs/change";
import { getDrain, listDrains } from "@/server/db/drains";
import { ConsoleError } from "@/server/errors";
import {
  abandonDrain,
  previewDrain,
  removeDrained,
  startDrain,
  undrain,
} from "@/server/directors/drain";
import { watchDrainProgress } from "@/server/directors/drain-watch";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../init";
import { expectedVersionsSchema } from "./changes";

const clusterIdSchema = z.string().min(1).max(64);
const drainIdSchema = z.number().int().positive();

export const drainsRouter = router({
  preview: viewerProcedure
    .input(z.object({ clusterId: clusterIdSchema, realserver: drainSelectorSchema }))
    .query(({ input }) => previewDrain(input.clusterId, input.realserver)),

  start: operatorProcedure
    .input(
      z.object({
        clusterId: clusterIdSchema,
        realserver: drainSelectorSchema,
        expectedVersions: expectedVersionsSchema,
        setExpireQuiescentTemplate: z.boolean().optional(),
      }),
    )
    .mutation(({ ctx, input }) => startDrain({ ...input, user: ctx.actor })),

  undrain: operatorProcedure
    .input(z.object({ drainId: drainIdSchema, expectedVersions: expectedVersionsSchema }))
    .mutation(({ ctx, input }) => undrain({ ...input, user: ctx.actor })),

  remove: operatorProcedure
    .input(
      z.object({
        drainId: drainIdSchema,
        expectedVersions: expectedVersionsSchema,
        force: z.boolean().optional(),
      }),
    )
    .mutation(({ ctx, input }) => removeDrained({ ...input, user: ctx.actor })),

  /** Closes an active drain without touching any director; the reason goes to the audit log. */
  abandon: adminProcedure
    .input(z.object({ drainId: drainIdSchema, reason: z.string().trim().min(3).max(500) }))
    .mutation(({ ctx, input }) => abandonDrain({ ...input, user: ctx.actor })),

  list: viewerProcedure
    .input(
      z
        .object({ clusterId: clusterIdSchema.optional(), active: z.boolean().optional() })
        .optional(),
    )
    .query(({ input }) => listDrains(input ?? {})),

  get: viewerProcedure.input(z.object({ drainId: drainIdSchema })).query(({ input }) => {
    const drain = getDrain(input.drainId);
    if (!drain)
      throw new ConsoleError("NOT_FOUND", `there is no drain ${input.drainId}`, {
        drainId: input.drainId,
      });
    return drain;
  }),

  progress: viewerProcedure
    .input(z.object({ drainId: drainIdSchema }))
    .subscription(async function* ({ ctx, input }) {
      for await (const progress of watchDrainProgress(input.drainId, ctx.streamSignal)) {
        yield tracked(String(progress.at), progress);
      }
    }),
});
