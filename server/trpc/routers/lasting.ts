import "server-only";
import { z } from "zod";
import {
  applyLastingChange,
  previewLastingChange,
  undrainChange,
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
  z.object({
    kind: z.literal("add-service"),
    service: serviceKeySchema,
    spec: z.object({
      scheduler: schedulerSchema,
      forward: forwardSchema,
      persistence: persistenceSchema.nullable(),
      delayLoop: z.number().int().min(1).max(3600).optional(),
      realservers: z
        .array(endpointSchema.extend({ weight: weightSchema }))
        .min(1)
        .max(256),
    }),
  }),
  z.object({ kind: z.literal("delete-service"), service: serviceKeySchema }),
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

  /** The change an undrain previews: the weight recorded by the member's last lasting drain. */
  undrainChange: viewerProcedure
    .input(
      z.object({
        clusterId: clusterIdSchema,
        service: serviceKeySchema,
        realserver: endpointSchema,
      }),
    )
    .query(({ input }) => undrainChange(input)),

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
