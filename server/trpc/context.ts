import "server-only";
import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { csrfRejection } from "@/server/auth/http";
import { identify } from "@/server/auth/service";
import { createContext, type Context } from "./init";

/** A request id a reverse proxy may pass on (X-Request-Id); anything else gets a fresh one. */
const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * The one place an HTTP request becomes a tRPC context: refuses cross-site writes, then finds
 * the user from the session cookie or the trusted proxy's header (server/auth/service.ts).
 * `resHeaders` is the fetch adapter's response headers, where sign-in puts its cookie.
 */
export function contextFromRequest(req: Request, resHeaders?: Headers): Context {
  const csrf = csrfRejection(req);
  if (csrf) throw new TRPCError({ code: "FORBIDDEN", message: `refused: ${csrf}` });
  const { secure, ...identity } = identify(req.headers);
  const sent = req.headers.get("x-request-id");
  const requestId = sent !== null && REQUEST_ID.test(sent) ? sent : randomUUID();
  resHeaders?.set("x-request-id", requestId);
  return createContext({
    ...identity,
    requestId,
    response: resHeaders
      ? { secure, setCookie: (cookie) => resHeaders.append("set-cookie", cookie) }
      : null,
  });
}
