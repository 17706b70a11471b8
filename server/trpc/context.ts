import "server-only";
import { TRPCError } from "@trpc/server";
import { csrfRejection } from "@/server/auth/http";
import { identify } from "@/server/auth/service";
import { createContext, type Context } from "./init";

/**
 * The one place an HTTP request becomes a tRPC context: refuses cross-site writes, then finds
 * the user from the session cookie or the trusted proxy's header (server/auth/service.ts).
 * `resHeaders` is the fetch adapter's response headers, where sign-in puts its cookie.
 */
export function contextFromRequest(req: Request, resHeaders?: Headers): Context {
  const csrf = csrfRejection(req);
  if (csrf) throw new TRPCError({ code: "FORBIDDEN", message: `refused: ${csrf}` });
  const { secure, ...identity } = identify(req.headers);
  return createContext({
    ...identity,
    response: resHeaders
      ? { secure, setCookie: (cookie) => resHeaders.append("set-cookie", cookie) }
      : null,
  });
}
