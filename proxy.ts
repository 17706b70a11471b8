/**
 * Runs before every page and API request:
 * - refuses state-changing API requests that are not same-origin JSON POSTs (CSRF), 403;
 * - sends page requests without a session cookie (or proxy header) to /login: an optimistic
 *   check only, the real one is in server/trpc/context.ts on every tRPC call;
 * - sets a per-request nonce Content-Security-Policy; Next.js stamps the nonce on its own
 *   scripts (pages must render dynamically, which the root layout ensures by reading it).
 * /metrics, /healthz and /readyz pass untouched: they are for machines, and /metrics checks
 * its own bearer token. The static security headers are in next.config.ts.
 */
import { NextResponse, type NextRequest } from "next/server";
import { csrfRejection, SESSION_COOKIE, TLS_SESSION_COOKIE } from "@/server/auth/http";
import { proxyHeaderName } from "@/server/auth/proxy-mode";
import { contentSecurityPolicy, safeNextPath } from "@/server/auth/csp";

const PUBLIC_PAGES = new Set(["/login"]);
/** Machine endpoints: no session (metrics has its own bearer token), no page headers. */
const OPEN_ENDPOINTS = new Set(["/metrics", "/healthz", "/readyz"]);

export function proxy(request: NextRequest): NextResponse {
  const { pathname, search } = request.nextUrl;
  if (OPEN_ENDPOINTS.has(pathname)) return NextResponse.next();

  if (pathname.startsWith("/api/")) {
    const rejection = csrfRejection(request);
    if (rejection) {
      return NextResponse.json(
        { error: { code: "FORBIDDEN", message: `refused: ${rejection}` } },
        { status: 403 },
      );
    }
    return NextResponse.next();
  }

  if (!PUBLIC_PAGES.has(pathname)) {
    const header = proxyHeaderName();
    const maybeSignedIn =
      request.cookies.has(SESSION_COOKIE) ||
      request.cookies.has(TLS_SESSION_COOKIE) ||
      (header !== null && request.headers.has(header));
    if (!maybeSignedIn) {
      const login = new URL("/login", request.url);
      login.search = "";
      const next = safeNextPath(pathname + search);
      if (next !== "/") login.searchParams.set("next", next);
      return NextResponse.redirect(login, 303);
    }
  }

  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const csp = contentSecurityPolicy(nonce, process.env.NODE_ENV === "development");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", csp);
  return response;
}

export const config = {
  matcher: [
    {
      source: "/((?!_next/static|_next/image|favicon.ico|robots.txt).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
