import { describe, expect, it } from "vitest";
import { Secret } from "@/server/config/users-schema";
import { metricsResponse, type MetricsDeps } from "./http";
import { createConsoleMetrics } from "./registry";
import { bearerMatches } from "./token";

const TOKEN = "0123456789abcdef0123456789abcdef-metrics";

function deps(token: string | undefined): MetricsDeps & { prepared: number } {
  const metrics = createConsoleMetrics();
  const out = {
    prepared: 0,
    token: () => (token === undefined ? undefined : new Secret(token)),
    prepare: () => {
      out.prepared++;
      return Promise.resolve();
    },
    scrape: () => metrics.scrape(),
  };
  return out;
}

const request = (authorization?: string, cookie?: string) =>
  new Request("http://127.0.0.1/metrics", {
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(cookie === undefined ? {} : { cookie }),
    },
  });

describe("bearerMatches", () => {
  it.each([
    [`Bearer ${TOKEN}`, true],
    [`Bearer ${TOKEN} `, true],
    [`Bearer ${TOKEN}x`, false],
    [`Bearer ${TOKEN.slice(0, -1)}`, false],
    [`bearer ${TOKEN}`, false],
    [`Basic ${TOKEN}`, false],
    [TOKEN, false],
    ["Bearer ", false],
    ["", false],
  ])("%j -> %s", (header, expected) => {
    expect(bearerMatches(header, TOKEN)).toBe(expected);
  });

  it("refuses a missing header", () => {
    expect(bearerMatches(null, TOKEN)).toBe(false);
  });
});

describe("GET /metrics", () => {
  it("does not exist without a configured token", async () => {
    const d = deps(undefined);
    const response = await metricsResponse(request(`Bearer ${TOKEN}`), d);
    expect(response.status).toBe(404);
    expect(d.prepared).toBe(0);
  });

  it.each([
    ["no header", undefined],
    ["a wrong token", "Bearer not-the-token-not-the-token-not-the"],
  ])("answers 401 to %s, even with a session cookie, and reads nothing", async (_, header) => {
    const d = deps(TOKEN);
    const response = await metricsResponse(request(header, "lvs_session=abc"), d);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect(await response.text()).not.toContain("lvs_");
    expect(d.prepared).toBe(0);
  });

  it("serves the Prometheus text format with the right token", async () => {
    const d = deps(TOKEN);
    const response = await metricsResponse(request(`Bearer ${TOKEN}`), d);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(createConsoleMetrics().registry.contentType);
    expect(await response.text()).toContain("# TYPE lvs_console_sign_ins_total counter");
    expect(d.prepared).toBe(1);
  });
});
