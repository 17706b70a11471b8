import { getConfig } from "@/server/config";
import { metricsResponse } from "@/server/metrics/http";
import { getConsoleMetrics } from "@/server/metrics/registry";
import { prepareScrape } from "@/server/metrics/sources";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export function GET(request: Request): Promise<Response> {
  return metricsResponse(request, {
    token: () => getConfig().metrics?.token,
    prepare: prepareScrape,
    scrape: () => getConsoleMetrics().scrape(),
  });
}
