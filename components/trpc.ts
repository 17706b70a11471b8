"use client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { ConsoleErrorJson } from "@/server/errors";
import type { AppRouter } from "@/server/trpc/root";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

// The API's shapes as the pages name them: derived from the router, never restated.
export type PreviewResult = RouterOutputs["changes"]["preview"];
export type ApplyDirectorResult = RouterOutputs["changes"]["commit"]["results"][number];
// Subscription payloads: the server's own types, imported type-only.
export type { DrainProgress } from "@/server/directors/drain-progress";
export type { DirectorStatus, FleetStatus } from "@/server/live/types";
export type { FleetDirector, FleetSummary } from "@/server/live/fleet-summary";
export type { PreflightWarning } from "@/server/ipvs/preflight";

/** A ConsoleError as the tRPC error formatter sends it (adminDetail to admins only). */
export type ConsoleErrorData = ConsoleErrorJson & { adminDetail?: string };
