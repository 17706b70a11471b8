/** The bearer token check of /metrics: constant time, whatever the lengths. */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Whether an Authorization header carries exactly `Bearer <token>`. */
export function bearerMatches(authorization: string | null, token: string): boolean {
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization?.trim() ?? "");
  // Comparing digests keeps the time independent of where, and whether, the texts differ.
  const sent = digest(match?.[1] ?? "");
  return timingSafeEqual(sent, digest(token)) && match !== null;
}
