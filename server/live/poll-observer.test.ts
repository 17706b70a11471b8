import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "@/server/log";
import { createPollObserver, type PollObservation } from "./poll-observer";
import { createConsoleMetrics } from "@/server/metrics/registry";

function observer() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ json: true, destination });
  const metrics = createConsoleMetrics();
  const observe = createPollObserver({
    metrics: () => metrics,
    log: (d) => log.child({ director: d.id, cluster: d.clusterId }),
  });
  return { observe, lines, metrics };
}

const poll = (at: number, fields: Partial<PollObservation>): PollObservation => ({
  directorId: "lvs1",
  clusterId: "web",
  at,
  durationMs: 200,
  error: null,
  message: null,
  version: "v1",
  lateMs: null,
  ...fields,
});

describe("the poll observer", () => {
  it("logs a director's turns once each, not every poll", () => {
    const { observe, lines } = observer();
    observe(poll(1, {}));
    observe(poll(2, {}));
    observe(poll(3, { error: "UNREACHABLE", message: "lvs1: connection refused", version: null }));
    observe(poll(4, { error: "UNREACHABLE", message: "lvs1: connection refused", version: null }));
    observe(poll(5, { error: "AUTH_FAILED", version: null }));
    observe(poll(6, {}));
    observe(poll(7, { version: "v2" }));
    expect(lines.map((l) => [l.event, l.code ?? l.to ?? null])).toEqual([
      ["director.unreachable", "UNREACHABLE"],
      ["director.unreachable", "AUTH_FAILED"],
      ["director.reachable", null],
      ["director.rules_changed", "v2"],
    ]);
    expect(lines.every((l) => l.director === "lvs1" && l.cluster === "web")).toBe(true);
    // The message says what the code cannot: which read failed, how.
    expect(lines[0]?.error).toBe("lvs1: connection refused");
  });

  it("records every poll in the metrics", async () => {
    const { observe, metrics } = observer();
    observe(poll(1_000, {}));
    observe(poll(3_000, { error: "TIMEOUT", version: null }));
    const text = await metrics.scrape();
    expect(text).toContain(
      'lvs_director_poll_duration_seconds_count{cluster="web",director="lvs1"} 2',
    );
    expect(text).toContain(
      'lvs_director_poll_errors_total{cluster="web",director="lvs1",code="TIMEOUT"} 1',
    );
  });
});
