/**
 * tRPC initialisation: context, then the instance, then the procedures every router uses.
 * Routers never touch the HTTP request; they get a narrowed ctx from the procedures below.
 */
import "server-only";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { sessionEndsAtFor } from "@/server/auth/service";
import { SessionStream, type SessionStreamDeps } from "@/server/auth/session-streams";
import type { Actor } from "@/server/db/audit";
import { isConsoleError } from "@/server/errors";
import { getLog } from "@/server/log";
import { TRPC_CODE_OF, toTRPCError } from "./error-codes";
import { inputFields, MUTATION_EVENTS, outcomeOf } from "./event-log";

export type Role = "viewer" | "operator" | "admin";

export interface SessionUser {
  name: string;
  role: Role;
}

export interface Context {
  /** The signed-in user, or null when anonymous. */
  user: SessionUser | null;
  /** Where the request came from, for the audit log. */
  remoteAddress: string | null;
  /** The session behind `user` (SHA-256 of its token); null when anonymous or signed in by the proxy. */
  sessionId: string | null;
  /** Names this request in the log lines it causes (x-request-id, or a random one). */
  requestId: string | null;
  /** Over HTTP only (null for createCaller): adds Set-Cookie to the response. */
  response: { setCookie(cookie: string): void; secure: boolean } | null;
}

export function createContext(init: Partial<Context> = {}): Context {
  return {
    user: init.user ?? null,
    remoteAddress: init.remoteAddress ?? null,
    sessionId: init.sessionId ?? null,
    requestId: init.requestId ?? null,
    response: init.response ?? null,
  };
}

export { toTRPCError } from "./error-codes";

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error, ctx }) {
    const cause = error.cause;
    const admin = ctx?.user?.role === "admin";
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field errors for forms (zod), and the console's own code for dialogs.
        zodError: cause instanceof ZodError ? cause.flatten() : null,
        console: isConsoleError(cause)
          ? {
              ...cause.toJSON(),
              // What only admins may read (e.g. which key file failed to log in).
              ...(admin && cause.adminDetail ? { adminDetail: cause.adminDetail } : {}),
            }
          : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Turns ConsoleErrors thrown by services into TRPCErrors with the right HTTP class. */
const consoleErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isConsoleError(result.error.cause)) {
    const e = result.error.cause;
    if (TRPC_CODE_OF[e.code] !== result.error.code) return { ...result, error: toTRPCError(e) };
  }
  return result;
});

const sessionStreamDeps: SessionStreamDeps = {
  endsAt: (sessionId) => sessionEndsAtFor(sessionId),
  now: () => Date.now(),
  recheckMs: 30_000,
};

/**
 * Yields what `source` yields until the session ends, then fails with UNAUTHORIZED (the
 * browser goes to the sign-in page); ends quietly when the caller leaves.
 */
async function* untilSessionEnds<T>(
  source: AsyncIterable<T>,
  stream: SessionStream,
): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const stopped = new Promise<IteratorResult<T>>((resolve) => {
    const done = () => resolve({ done: true, value: undefined });
    if (stream.signal.aborted) done();
    else stream.signal.addEventListener("abort", done, { once: true });
  });
  try {
    for (;;) {
      const step = await Promise.race([it.next(), stopped]);
      // Every push re-checks the session: one ended by another process stops here.
      if (step.done || !stream.check()) break;
      yield step.value;
    }
    if (stream.ended) throw toTRPCError(stream.ended);
  } finally {
    stream.dispose();
    // A source that ignored ctx.streamSignal finishes at its next value: never wait for it.
    void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

/**
 * Subscriptions end with their session (server/auth/session-streams.ts). Resolvers take
 * `ctx.streamSignal` (the caller leaving, or for a signed-in session its logout or expiry)
 * instead of tRPC's `signal`.
 */
const sessionStreams = t.middleware(async ({ ctx, type, signal, next }) => {
  if (type !== "subscription" || ctx.sessionId === null)
    return next({ ctx: { streamSignal: signal ?? new AbortController().signal } });
  const stream = new SessionStream(ctx.sessionId, signal, sessionStreamDeps);
  const result = await next({ ctx: { streamSignal: stream.signal } });
  const data: unknown = result.ok ? result.data : null;
  if (!result.ok || typeof data !== "object" || data === null || !(Symbol.asyncIterator in data)) {
    stream.dispose();
    return result;
  }
  return { ...result, data: untilSessionEnds(data as AsyncIterable<unknown>, stream) };
});

/** A log line per mutation (server/trpc/event-log.ts). */
const mutationLog = t.middleware(async ({ ctx, type, path, getRawInput, next }) => {
  if (type !== "mutation") return next();
  const startedAt = Date.now();
  const result = await next();
  const outcome = outcomeOf(result);
  const fields = {
    event: MUTATION_EVENTS[path] ?? `mutation.${path}`,
    user: ctx.user?.name ?? null,
    requestId: ctx.requestId,
    remoteAddress: ctx.remoteAddress,
    ...inputFields(path, await getRawInput().catch(() => undefined)),
    result: outcome.result,
    ms: Date.now() - startedAt,
  };
  if (outcome.ok) getLog().info(fields, path);
  else getLog().warn(fields, path);
  return result;
});

export const publicProcedure = t.procedure.use(mutationLog).use(consoleErrors).use(sessionStreams);

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

function requireRole(min: Role) {
  return t.middleware(({ ctx, next }) => {
    if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
    if (RANK[ctx.user.role] < RANK[min]) {
      throw new TRPCError({ code: "FORBIDDEN", message: `this needs the ${min} role` });
    }
    // Narrow ctx so a protected procedure cannot forget the user; the actor is who the audit log names.
    const actor: Actor = { name: ctx.user.name, remoteAddress: ctx.remoteAddress };
    return next({ ctx: { ...ctx, user: ctx.user, actor } });
  });
}

/** Reads: any signed-in user. */
export const viewerProcedure = publicProcedure.use(requireRole("viewer"));
/** Changes and drains. */
export const operatorProcedure = publicProcedure.use(requireRole("operator"));
/** Trusting host keys, managing users. */
export const adminProcedure = publicProcedure.use(requireRole("admin"));
