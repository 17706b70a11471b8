import "server-only";
import { tracked } from "@trpc/server";
import { z } from "zod";
import {
  directorStatus,
  fleetStatus,
  fleetSummary,
  getPollers,
  watchDirector,
  watchFleet,
  watchFleetChanges,
} from "@/server/live/registry";
import { getDirector } from "@/server/config/directors";
import { LatestValues } from "@/server/live/stream";
import { directorPush } from "@/server/live/director-push";
import type { DirectorStatus, FleetStatus } from "@/server/live/types";
import { router, viewerProcedure } from "../init";

const directorIdSchema = z.string().min(1).max(64);

/** The id a reconnecting browser sends back: when the status was taken. */
function eventId(status: DirectorStatus): string {
  return String(
    status.reachability === "live"
      ? (status.snapshot?.takenAt ?? 0)
      : (status.nextRetryAt ?? status.lastSuccessAt ?? 0),
  );
}

export const liveRouter = router({
  /**
   * Every cluster's directors with their whole snapshots (the realserver page); a new
   * value whenever any director's status changes.
   */
  fleet: viewerProcedure.subscription(async function* ({ ctx }) {
    const updates = new LatestValues<FleetStatus>((push) => watchFleet(push), ctx.streamSignal);
    // The current view is assembled after subscribing: an update in between is already in it.
    updates.discardPending();
    yield fleetStatus();
    for await (const fleet of updates) yield fleet;
  }),

  /**
   * The fleet page's rows (fleet-summary.ts): all of them first, then only the directors
   * that changed since the last push; ids a slow browser has not read yet are merged.
   */
  fleetSummary: viewerProcedure.subscription(async function* ({ ctx }) {
    const updates = new LatestValues<Set<string>>(
      (push) => watchFleetChanges(push),
      ctx.streamSignal,
      (unread, next) => new Set([...unread, ...next]),
    );
    updates.discardPending();
    yield fleetSummary();
    for await (const changed of updates) yield fleetSummary(changed);
  }),

  /** One director's status after every poll: whole, then as deltas (director-push.ts). */
  director: viewerProcedure
    .input(z.object({ directorId: directorIdSchema, lastEventId: z.string().nullish() }))
    .subscription(async function* ({ ctx, input }) {
      // Subscribe before reading the current value, so no poll falls in between.
      const updates = new LatestValues<DirectorStatus>(
        (push) => watchDirector(input.directorId, push),
        ctx.streamSignal,
      );
      const current = getPollers().poller(getDirector(input.directorId)).current();
      updates.discardPending();
      // The first push is whole (a reconnect starts a new stream, so whole again); then only
      // the services that changed since the push before (director-push.ts).
      yield tracked(eventId(current), directorPush(null, current));
      let last = current;
      for await (const status of updates) {
        yield tracked(eventId(status), directorPush(last, status));
        last = status;
      }
    }),

  /** One-off status; polls the director once if nobody watches it. */
  status: viewerProcedure
    .input(z.object({ directorId: directorIdSchema }))
    .query(({ input }) => directorStatus(input.directorId)),
});
