/**
 * Pure helpers over HTTP requests: cookies, TLS detection, the CSRF rule, client addresses.
 * No server-only import: proxy.ts and tests use them too.
 */

export const SESSION_COOKIE = "lvs_session";
/**
 * The cookie's name over TLS. Browsers accept a `__Host-` cookie only with Secure, Path=/ and
 * no Domain from a secure origin, so a sibling domain cannot plant one to switch the session.
 */
export const TLS_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

export function sessionCookieName(secure: boolean): string {
  return secure ? TLS_SESSION_COOKIE : SESSION_COOKIE;
}

/** Set by the hook in server/auth/peer.ts from the socket, overwriting whatever a client sent. */
export const PEER_HEADER = "x-lvs-console-peer";
/** Set by the same hook: "1" when the socket itself is TLS. */
export const PEER_TLS_HEADER = "x-lvs-console-peer-tls";

const peerHook = globalThis as typeof globalThis & { __lvsConsolePeerHook?: boolean };

export function markPeerHookInstalled(): void {
  peerHook.__lvsConsolePeerHook = true;
}

export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * The session token, read only from the cookie of this transport: over TLS a plain
 * `lvs_session` (which any sibling domain could have set) is ignored.
 */
export function sessionTokenOf(headers: Headers, secure: boolean): string | null {
  return parseCookies(headers.get("cookie")).get(sessionCookieName(secure)) ?? null;
}

/**
 * TLS at this server (the socket, as stamped by the peer hook) or at a trusted reverse proxy
 * in front of it. X-Forwarded-Proto is believed only from a trusted peer, and then its last
 * value (the one the nearest proxy added); anyone else could send it.
 */
export function isSecureRequest(headers: Headers, trustedProxies: readonly string[]): boolean {
  if (peerHook.__lvsConsolePeerHook && headers.get(PEER_TLS_HEADER) === "1") return true;
  if (!isTrustedPeer(headers, trustedProxies)) return false;
  const proto = headers.get("x-forwarded-proto")?.split(",").at(-1)?.trim().toLowerCase();
  return proto === "https";
}

export function sessionCookie(
  token: string,
  opts: { secure: boolean; maxAgeSeconds: number },
): string {
  return [
    `${sessionCookieName(opts.secure)}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`,
    ...(opts.secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearSessionCookie(opts: { secure: boolean }): string {
  return sessionCookie("", { secure: opts.secure, maxAgeSeconds: 0 });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a state-changing request is refused as a possible cross-site request forgery, or null
 * when it is acceptable: it must be a JSON POST (a cross-origin page cannot send one without
 * a CORS preflight we never answer) and, when the browser says where it came from, from this
 * origin. Clients that send neither Origin nor Sec-Fetch-Site are not browsers.
 */
export function csrfRejection(req: Request): string | null {
  if (SAFE_METHODS.has(req.method)) return null;
  if (req.method !== "POST") return "only POST may change state";
  const contentType = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (contentType !== "application/json") return "changes must be sent as application/json";
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin")
    return `cross-site request (Sec-Fetch-Site: ${site})`;
  const origin = req.headers.get("origin");
  if (origin !== null) {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return "malformed Origin";
    }
    const hosts = [
      req.headers.get("host"),
      req.headers.get("x-forwarded-host"),
      new URL(req.url).host,
    ]
      .filter((h): h is string => !!h)
      .map((h) => h.toLowerCase());
    if (!hosts.includes(originHost)) return `cross-origin request from ${origin}`;
  }
  return null;
}

function normaliseAddress(address: string): string {
  const a = address.trim();
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

/** The TCP peer of the request, or null when the hook that records it is not installed. */
export function peerAddress(headers: Headers): string | null {
  if (!peerHook.__lvsConsolePeerHook) return null;
  const peer = headers.get(PEER_HEADER);
  return peer ? normaliseAddress(peer) : null;
}

function isTrusted(address: string, trustedProxies: readonly string[]): boolean {
  return trustedProxies.some((p) => normaliseAddress(p) === address);
}

/** Whether the TCP peer is one of the configured reverse proxies (never without the peer hook). */
export function isTrustedPeer(headers: Headers, trustedProxies: readonly string[]): boolean {
  const peer = peerAddress(headers);
  return peer !== null && isTrusted(peer, trustedProxies);
}

/**
 * The client's address (sign-in limits, the audit log): the TCP peer, or when that peer is a
 * trusted reverse proxy, the rightmost X-Forwarded-For entry that is not itself a trusted
 * proxy: everything left of it was written by the client and proves nothing. Null without
 * the peer hook (a test harness): a client-supplied header is never taken instead.
 */
export function clientAddress(
  headers: Headers,
  trustedProxies: readonly string[] = [],
): string | null {
  const peer = peerAddress(headers);
  if (peer === null || !isTrusted(peer, trustedProxies)) return peer;
  const forwarded = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map(normaliseAddress)
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = forwarded[i];
    if (hop !== undefined && !isTrusted(hop, trustedProxies)) return hop;
  }
  // Every hop is a trusted proxy: the leftmost is the closest to the client we know.
  return forwarded[0] ?? peer;
}

/** The procedure that may never share a request: one password check per HTTP request. */
export const LOGIN_PROCEDURE = "auth.login";

/**
 * Why a tRPC request is refused because it batches `auth.login` with other calls (twenty
 * guesses in one POST), or null. Reads the procedure list as tRPC does: the path after the
 * endpoint, URL-decoded, split on commas, when `batch=1`.
 */
export function loginBatchRejection(url: string, endpoint: string): string | null {
  const { pathname, searchParams } = new URL(url);
  if (searchParams.get("batch") !== "1") return null;
  const rest = pathname.startsWith(endpoint) ? pathname.slice(endpoint.length) : pathname;
  let paths: string[];
  try {
    paths = decodeURIComponent(rest.replace(/^\/+|\/+$/g, "")).split(",");
  } catch {
    return null;
  }
  return paths.length > 1 && paths.includes(LOGIN_PROCEDURE)
    ? `${LOGIN_PROCEDURE} cannot be batched with other calls: send it alone`
    : null;
}
