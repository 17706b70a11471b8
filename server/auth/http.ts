/**
 * Pure helpers over HTTP requests: cookies, TLS detection, the CSRF rule, client addresses.
 * No server-only import: proxy.ts and tests use them too.
 */

export const SESSION_COOKIE = "lvs_session";

/** Set by the hook in server/auth/peer.ts from the socket, overwriting whatever a client sent. */
export const PEER_HEADER = "x-lvs-console-peer";

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

export function sessionTokenOf(headers: Headers): string | null {
  return parseCookies(headers.get("cookie")).get(SESSION_COOKIE) ?? null;
}

/** TLS at this server or at a reverse proxy in front of it. */
export function isSecureRequest(req: Request): boolean {
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return proto === "https" || new URL(req.url).protocol === "https:";
}

export function sessionCookie(
  token: string,
  opts: { secure: boolean; maxAgeSeconds: number },
): string {
  return [
    `${SESSION_COOKIE}=${token}`,
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

/**
 * The client's address for the audit log: the TCP peer, or when that peer is a trusted
 * reverse proxy, the last address it appended to X-Forwarded-For. Without the peer hook
 * (e.g. a test harness) falls back to X-Forwarded-For, which is only informational.
 */
export function clientAddress(
  headers: Headers,
  trustedProxies: readonly string[] = [],
): string | null {
  const forwarded = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map(normaliseAddress)
    .filter(Boolean);
  const peer = peerAddress(headers);
  if (peer === null) return forwarded[0] ?? headers.get("x-real-ip") ?? null;
  if (trustedProxies.includes(peer)) return forwarded.at(-1) ?? peer;
  return peer;
}
