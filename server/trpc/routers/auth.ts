/** auth.login / auth.logout / auth.me: the session cookie travels in Set-Cookie headers. */
import "server-only";
import { z } from "zod";
import { ConsoleError } from "@/server/errors";
import { publicProcedure, router, viewerProcedure } from "../init";
import { clearSessionCookie, sessionCookie } from "@/server/auth/http";
import { login, logout } from "@/server/auth/service";

export const loginInput = z.strictObject({
  name: z.string().min(1, "enter your user name").max(200),
  password: z.string().min(1, "enter your password").max(1024),
});

export const authRouter = router({
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    if (!ctx.response)
      throw new ConsoleError("INTERNAL", "sign-in needs an HTTP response to set the cookie on");
    // RATE_LIMITED becomes 429 Too Many Requests, a wrong password 401 (server/trpc/init.ts).
    const result = await login({ ...input, remoteAddress: ctx.remoteAddress });
    ctx.response.setCookie(
      sessionCookie(result.token, {
        secure: ctx.response.secure,
        maxAgeSeconds: result.maxAgeSeconds,
      }),
    );
    return { user: result.user };
  }),

  logout: viewerProcedure.mutation(({ ctx }) => {
    if (ctx.sessionId) logout(ctx.sessionId);
    ctx.response?.setCookie(clearSessionCookie({ secure: ctx.response.secure }));
    return { ok: true as const };
  }),

  /** Who is signed in; null when nobody (the UI then shows the sign-in page). */
  me: publicProcedure.query(({ ctx }) => ({
    user: ctx.user,
    via:
      ctx.user === null ? null : ctx.sessionId !== null ? ("session" as const) : ("proxy" as const),
  })),
});
