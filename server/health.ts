/**
 * /healthz: the process answers. /readyz: the config is loaded and the database answers a
 * query. Both say only "ok" / "ready" / "not ready": no versions, paths or error texts, since
 * they are open to anyone who can reach the port (the reason goes to the log instead).
 */
import { getLog } from "@/server/log";

export interface ReadinessChecks {
  config: () => unknown;
  database: () => unknown;
}

const text = (status: number, body: string) =>
  new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });

export function healthResponse(): Response {
  return text(200, "ok");
}

export function readinessResponse(checks: ReadinessChecks): Response {
  for (const [name, check] of Object.entries(checks) as Array<[string, () => unknown]>) {
    try {
      check();
    } catch (e) {
      getLog().warn({ event: "readyz.failed", check: name, err: e }, "not ready");
      return text(503, "not ready");
    }
  }
  return text(200, "ready");
}
