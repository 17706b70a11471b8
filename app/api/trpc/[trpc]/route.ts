import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/trpc/root";
import { getLog } from "@/server/log";
import { contextFromRequest } from "@/server/trpc/context";

// SSH sessions, SQLite and long-lived SSE streams need the Node runtime, never a static render.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
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
