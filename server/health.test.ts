import { describe, expect, it } from "vitest";
import { healthResponse, readinessResponse } from "./health";

const fail = (message: string) => () => {
  throw new Error(message);
};

describe("health routes", () => {
  it("/healthz answers ok", async () => {
    const res = healthResponse();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });

  it("/readyz is ready when the config and the database answer", async () => {
    const res = readinessResponse({ config: () => ({}), database: () => ({ 1: 1 }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ready\n");
  });

  it.each([
    [
      "the config",
      { config: fail("/etc/lvs-console/lvs-console.yaml: no such file"), database: () => 1 },
    ],
    ["the database", { config: () => 1, database: fail("SQLITE_CANTOPEN /var/lib/lvs-console/x") }],
  ])("/readyz says only 'not ready' when %s fails", async (_, checks) => {
    const res = readinessResponse(checks);
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toBe("not ready\n");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});
