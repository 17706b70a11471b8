"use client";
import type { TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import type { AppRouter } from "@/server/trpc/root";

/** To the sign-in page, coming back here afterwards. */
export function sendToSignIn(): void {
  window.location.assign(
    `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`,
  );
}

/**
 * A live stream the server ended with UNAUTHORIZED (the session was signed out elsewhere or
 * expired: server/auth/session-streams.ts) sends the user to the sign-in page instead of
 * leaving numbers on screen that no longer update. Queries and mutations keep their own
 * handling (a wrong password on the sign-in page is UNAUTHORIZED too).
 */
export const signInAgainLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) =>
      next(op).subscribe({
        next: (value) => observer.next(value),
        error: (err) => {
          if (op.type === "subscription" && err.data?.code === "UNAUTHORIZED") sendToSignIn();
          observer.error(err);
        },
        complete: () => observer.complete(),
      }),
    );
