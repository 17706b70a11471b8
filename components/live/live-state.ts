import type { LiveState } from "@/components/ui/connection-status";

/** What a live view shows about its subscription: the status indicator, its retry, the error. */
export interface LiveFeed {
  state: LiveState;
  since: number | null;
  error: string | null;
  reset: () => void;
}

/** No push for this long means the numbers on screen are old, whatever the socket says. */
export const STALE_AFTER_MS = 15_000;

/**
 * Maps a subscription's status (idle | connecting | pending | error) and the time of the
 * last push to what the operator needs to know: can I trust these numbers?
 */
export function liveStateOf(input: {
  status: "idle" | "connecting" | "pending" | "error";
  hasData: boolean;
  lastDataAt: number | null;
  now: number;
}): LiveState {
  const { status, hasData, lastDataAt, now } = input;
  if (status === "error") return hasData ? "stale" : "reconnecting";
  if (status === "connecting" || status === "idle") return hasData ? "reconnecting" : "connecting";
  if (lastDataAt !== null && now - lastDataAt > STALE_AFTER_MS) return "stale";
  return hasData ? "live" : "connecting";
}
