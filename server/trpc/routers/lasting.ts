import "server-only";
import { z } from "zod";
import {
  applyLastingChange,
  previewLastingChange,
  undrainLastingChange,
} from "@/server/directors/lasting-flow";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import {
  endpointSchema,
  forwardSchema,
  persistenceSchema,
  protocolSchema,
  schedulerSchema,
  serviceKeySchema,
  weightSchema,
} from "@/server/ipvs/model";
import { operatorProcedure, router, viewerProcedure } from "../init";

const clusterIdSchema = z.string().min(1).max(64);

export const lastingChangeSchema: z.ZodType<LastingChange> = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("weight"),
    service: serviceKeySchema,
    realserver: endpointSchema,
    weight: weightSchema,
  }),
  z.object({
    kind: z.literal("add-realserver"),
    service: serviceKeySchema,
    realserver: endpointSchema.extend({ weight: weightSchema }),
  }),
  z.object({
    kind: z.literal("remove-realserver"),
    service: serviceKeySchema,
    realserver: endpointSchema,
  }),
  z.object({
    kind: z.literal("edit-service"),
    service: serviceKeySchema,
    changes: z.object({
      scheduler: schedulerSchema.optional(),
      forward: forwardSchema.optional(),
      persistence: persistenceSchema.nullable().optional(),
      protocol: protocolSchema.optional(),
    }),
  }),
]);

/** Changes to keepalived-owned services that are written into keepalived's config. */
export const lastingRouter = router({
  preview: viewerProcedure
    .input(z.object({ clusterId: clusterIdSchema, change: lastingChangeSchema }))
    .query(({ input }) => previewLastingChange(input.clusterId, input.change)),

  commit: operatorProcedure
    .input(
      z.object({
        clusterId: clusterIdSchema,
        change: lastingChangeSchema,
        expectedFilesVersions: z.record(z.string().max(64), z.string().max(128)),
      }),
    )
    .mutation(({ ctx, input }) =>
      applyLastingChange({
        clusterId: input.clusterId,
        change: input.change,
        expectedFilesVersions: input.expectedFilesVersions,
        user: { name: ctx.user.name, remoteAddress: ctx.remoteAddress },
      }),
    ),

  /** Writes back the weight recorded by the last lasting drain of the member. */
  undrain: operatorProcedure
    .input(
      z.object({
        clusterId: clusterIdSchema,
        service: serviceKeySchema,
        realserver: endpointSchema,
      }),
    )
    .mutation(({ ctx, input }) =>
      undrainLastingChange({
        ...input,
        user: { name: ctx.user.name, remoteAddress: ctx.remoteAddress },
      }),
    ),
});
