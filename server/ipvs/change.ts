/**
 * A change the operator asks for, as one zod schema shared by the routers, the UI forms and
 * the planner: which kinds there are, what each carries, and the cross-field rules
 * (rule-checks.ts) that make an invalid change fail in the form rather than on a director.
 */
import { z } from "zod";
import {
  addressSchema,
  endpointSchema,
  formatEndpoint,
  portSchema,
  sameEndpoint,
  serviceKeySchema,
  sysctlSettingSchema,
  weightSchema,
  type ServiceKey,
} from "./model";
import {
  checkedRealserverRuleSchema,
  checkedServiceRuleSchema,
  membershipIssues,
} from "./rule-checks";

/** A realserver as the operator names it for a drain: an address, and a port to narrow it. */
export const drainSelectorSchema = z.object({
  address: addressSchema,
  port: portSchema.optional(),
});
export type DrainSelector = z.output<typeof drainSelectorSchema>;

function addMembershipIssues(
  ctx: z.RefinementCtx,
  key: ServiceKey,
  rs: { address: string; port: number; forward: string },
  path: Array<string | number>,
): void {
  for (const issue of membershipIssues(key, rs)) {
    ctx.addIssue({ code: "custom", path: [...path, ...issue.path], message: issue.message });
  }
}

/** Every change the console can make. Shared by the routers and the UI forms. */
export const changeSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("setWeight"),
    service: serviceKeySchema,
    realserver: endpointSchema,
    weight: weightSchema,
  }),
  z
    .object({
      kind: z.literal("addRealserver"),
      service: serviceKeySchema,
      realserver: checkedRealserverRuleSchema,
    })
    .superRefine((c, ctx) => addMembershipIssues(ctx, c.service, c.realserver, ["realserver"])),
  z
    .object({
      kind: z.literal("editRealserver"),
      service: serviceKeySchema,
      realserver: checkedRealserverRuleSchema,
    })
    .superRefine((c, ctx) => addMembershipIssues(ctx, c.service, c.realserver, ["realserver"])),
  z.object({
    kind: z.literal("removeRealserver"),
    service: serviceKeySchema,
    realserver: endpointSchema,
  }),
  z
    .object({
      kind: z.literal("addService"),
      service: checkedServiceRuleSchema,
      realservers: z.array(checkedRealserverRuleSchema).default([]),
    })
    .superRefine((c, ctx) => {
      c.realservers.forEach((rs, i) => {
        addMembershipIssues(ctx, c.service.key, rs, ["realservers", i]);
        if (c.realservers.findIndex((other) => sameEndpoint(other, rs)) !== i) {
          ctx.addIssue({
            code: "custom",
            path: ["realservers", i],
            message: `${formatEndpoint(rs)} is listed twice`,
          });
        }
      });
    }),
  z.object({ kind: z.literal("editService"), service: checkedServiceRuleSchema }),
  z.object({ kind: z.literal("deleteService"), service: serviceKeySchema }),
  z.object({ kind: z.literal("drain"), realserver: drainSelectorSchema }),
  z.object({
    kind: z.literal("undrain"),
    realserver: drainSelectorSchema,
    /** The weights recorded when the drain started, per service. */
    weights: z
      .array(z.object({ service: serviceKeySchema, port: portSchema, weight: weightSchema }))
      .min(1),
  }),
  z.object({ kind: z.literal("setSysctl"), setting: sysctlSettingSchema }),
]);
export type Change = z.output<typeof changeSchema>;
export type ChangeInput = z.input<typeof changeSchema>;

/** A drain selector in messages: the address, or address:port when the drain is for one port. */
export function describeSelector(s: DrainSelector): string {
  return s.port === undefined ? s.address : formatEndpoint({ address: s.address, port: s.port });
}
