import { describe, expect, it } from "vitest";
import { Secret } from "./users-schema";
import { configFromObject, ConfigError } from "./index";

const TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f-token";

const base = (metrics?: unknown) => ({
  clusters: [{ id: "web", directors: [{ id: "lvs1", host: "192.0.2.11", agent: true }] }],
  ...(metrics === undefined ? {} : { metrics }),
});

const load = (metrics?: unknown) =>
  configFromObject(base(metrics), "lvs-console.yaml", "/", { checkFiles: false });

describe("metrics: in lvs-console.yaml", () => {
  it("is off unless configured", () => {
    expect(load().metrics).toBeUndefined();
  });

  it("keeps the token as a Secret that never serialises", () => {
    const config = load({ token: TOKEN });
    expect(config.metrics?.token).toBeInstanceOf(Secret);
    expect(config.metrics?.token.reveal()).toBe(TOKEN);
    expect(JSON.stringify(config)).not.toContain(TOKEN);
  });

  it.each([
    [{ token: "short" }, "metrics.token: metrics.token is at least 32 characters"],
    [{ token: `${TOKEN} with spaces` }, "metrics.token: metrics.token is printable ASCII"],
    [{ token: TOKEN, extra: 1 }, "metrics.extra: unknown field"],
  ])("refuses %j", (metrics, message) => {
    expect(() => load(metrics)).toThrow(ConfigError);
    expect(() => load(metrics)).toThrow(message);
  });
});
