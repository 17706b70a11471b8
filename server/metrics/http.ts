/**
 * GET /metrics: Prometheus text, behind `metrics.token` (Authorization: Bearer). Never the
 * browser session: a signed-in browser without the token gets 401 like anyone else. With
 * no token configured the endpoint does not exist (404).
 */
/** The configured token, as the config holds it (revealed only to compare). */
interface Secret {
  reveal(): string;
}
import { bearerMatches } from "./token";

export interface MetricsDeps {
  token: () => Secret | undefined;
  prepare: () => Promise<void>;
  scrape: () => Promise<string>;
}

/** What prom-client's Registry.contentType says for the text format. */
export const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

const plain = (status: number, text: string, headers: Record<string, string> = {}) =>
  new Response(`${text}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });

export async function metricsResponse(request: Request, deps: MetricsDeps): Promise<Response> {
  const token = deps.token();
  if (!token) return plain(404, "not found");
  if (!bearerMatches(request.headers.get("authorization"), token.reveal()))
    return plain(401, "unauthorized", { "www-authenticate": 'Bearer realm="metrics"' });
  await deps.prepare();
  return new Response(await deps.scrape(), {
    status: 200,
    headers: { "content-type": PROMETHEUS_TEXT, "cache-control": "no-store" },
  });
}
