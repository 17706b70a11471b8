import { getConfig } from "@/server/config";
import { getDb } from "@/server/db";
import { readinessResponse } from "@/server/health";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export function GET(): Response {
  return readinessResponse({
    config: getConfig,
    database: () => getDb().prepare("SELECT 1").get(),
  });
}
