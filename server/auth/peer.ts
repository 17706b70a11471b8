/**
 * Next.js gives route handlers no socket, and fills X-Forwarded-For only when the client did
 * not send one, so neither says who is really connected. This hook stamps each request with
 * its socket's address (and whether the socket is TLS) before Next sees it; the trusted-proxy
 * check and the cookie's Secure flag depend on it.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { markPeerHookInstalled, PEER_HEADER, PEER_TLS_HEADER } from "./http";

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
const installed = Symbol.for("lvs-console.peer-hook");

export function installPeerAddressHook(): void {
  for (const proto of [http.Server.prototype, https.Server.prototype] as Array<{
    emit: Emit;
    [installed]?: true;
  }>) {
    if (proto[installed]) continue;
    const emit = proto.emit;
    proto.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
      if (event === "request") {
        const req = args[0] as IncomingMessage;
        req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
        req.headers[PEER_TLS_HEADER] =
          "encrypted" in req.socket && req.socket.encrypted ? "1" : "0";
      }
      return emit.call(this, event, ...args);
    };
    proto[installed] = true;
  }
  markPeerHookInstalled();
}
