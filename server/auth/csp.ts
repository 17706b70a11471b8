/** Security policy values shared by proxy.ts, next.config.ts and the login page. */

/**
 * Scripts only with this request's nonce ('strict-dynamic' lets them load Next's chunks).
 * Styles allow 'unsafe-inline': server-rendered style attributes (virtualised tables, bars)
 * cannot carry a nonce, and injected CSS is far less dangerous than injected script.
 * 'unsafe-eval' only in development, where React uses eval for error overlays.
 */
export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Headers for every response, pages, API and static files alike. */
export const STATIC_SECURITY_HEADERS: ReadonlyArray<{ key: string; value: string }> = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Referrer-Policy", value: "no-referrer" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

/** A same-site path to return to after sign-in; anything else (//evil, https://...) is "/". */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (/[\p{Cc}\\]/u.test(next)) return "/";
  if (next === "/login" || next.startsWith("/login?")) return "/";
  return next.length > 2000 ? "/" : next;
}
