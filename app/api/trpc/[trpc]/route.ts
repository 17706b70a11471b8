import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { loginBatchRejection } from "@/server/auth/http";
import { appRouter } from "@/server/trpc/root";
import { getLog } from "@/server/log";
import { contextFromRequest } from "@/server/trpc/context";

// SSH sessions, SQLite and long-lived SSE streams need the Node runtime, never a static render.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const ENDPOINT = "/api/trpc";

function handler(req: Request): Promise<Response> {
  // Each sign-in attempt is its own request, so the limits see every guess.
  const batchedLogin = loginBatchRejection(req.url, ENDPOINT);
  if (batchedLogin) {
    return Promise.resolve(
      Response.json(
        { error: { code: "BAD_REQUEST", message: `refused: ${batchedLogin}` } },
        { status: 400 },
      ),
    );
  }
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => contextFromRequest(req, resHeaders),
    onError({ path, error, ctx }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        getLog().error(
          {
            event: "trpc.error",
            path: path ?? null,
            requestId: ctx?.requestId ?? null,
            err: error.cause ?? error,
          },
          "internal error",
        );
      }
    },
  });
}

export { handler as GET, handler as POST };
