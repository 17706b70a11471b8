/**
 * One log line per mutation (sign-in, change, drain, host-key trust, ...): who, which
 * request, on what, and how it ended. Only named, harmless fields of the input are taken
 * (ids, the realserver, the change's kind), never the input as a whole: a password or a
 * typed secret cannot reach the log through here.
 */
import type { TRPCError } from "@trpc/server";
import { USER_NAME } from "@/server/config/users-schema";
import { ConsoleError } from "@/server/errors";

export const MUTATION_EVENTS: Record<string, string> = {
  "auth.login": "sign_in",
  "auth.logout": "sign_out",
  "changes.commit": "change",
  "drains.start": "drain.start",
  "drains.undrain": "drain.undrain",
  "drains.remove": "drain.remove",
  "hostKeys.trust": "hostKey.trust",
};

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

const text = (value: unknown, pattern: RegExp) =>
  typeof value === "string" && pattern.test(value) ? value : undefined;

/** The fields of a mutation's input worth a log line, each checked for its shape. */
export function inputFields(path: string, input: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const cluster = text(field(input, "clusterId"), ID);
  if (cluster) out.cluster = cluster;
  const director = text(field(input, "directorId"), ID);
  if (director) out.director = director;
  const drainId = field(input, "drainId");
  if (typeof drainId === "number" && Number.isInteger(drainId)) out.drainId = drainId;
  const fingerprint = text(field(input, "fingerprint"), FINGERPRINT);
  if (fingerprint) out.fingerprint = fingerprint;
  const kind = text(field(field(input, "change"), "kind"), /^[a-z-]{1,32}$/);
  if (kind) out.kind = kind;
  const address = text(field(field(input, "realserver"), "address"), /^[0-9A-Fa-f.:]{1,64}$/);
  if (address) {
    const port = field(field(input, "realserver"), "port");
    out.realserver = typeof port === "number" ? `${address}:${port}` : address;
  }
  // A failed sign-in has no ctx.user: the name tried, when it is a possible user name (so a
  // password typed into the name field is not written down).
  if (path === "auth.login") {
    const name = text(field(input, "name"), USER_NAME);
    out.user = name ?? "[not a user name]";
  }
  return out;
}

/** How a mutation ended: its result ("ok", "partial", ...) or its error code. */
export function outcomeOf(result: { ok: true; data: unknown } | { ok: false; error: TRPCError }): {
  ok: boolean;
  result: string;
} {
  if (!result.ok) {
    const cause = result.error.cause;
    return { ok: false, result: cause instanceof ConsoleError ? cause.code : result.error.code };
  }
  const value = field(result.data, "result");
  return typeof value === "string"
    ? { ok: value === "ok", result: value }
    : { ok: true, result: "ok" };
}
