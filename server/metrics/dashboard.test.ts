import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createConsoleMetrics } from "./registry";

const dashboard = readFileSync(
  new URL("../../deploy/grafana-dashboard.json", import.meta.url),
  "utf8",
);

describe("deploy/grafana-dashboard.json", () => {
  it("queries only metrics the console exposes", async () => {
    const metrics = createConsoleMetrics();
    const exposed = new Set(
      [...(await metrics.registry.metrics()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]),
    );
    const used = new Set(
      [...dashboard.matchAll(/\blvs_[a-z_]+/g)].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, ""),
      ),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(exposed, name).toContain(name);
  });
});
