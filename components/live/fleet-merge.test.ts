import { describe, expect, it } from "vitest";
import type { FleetDirector, FleetSummary } from "@/server/live/fleet-summary";
import { mergeFleetSummary } from "./fleet-merge";

const row = (directorId: string, takenAt: number): FleetDirector => ({
  directorId,
  clusterId: "web",
  reachability: "live",
  error: null,
  lastSuccessAt: takenAt,
  nextRetryAt: null,
  summary: {
    takenAt,
    version: "v1",
    ipvsadm: "1.31",
    connectionCount: 0,
    totals: { cps: 0, bps: 0, activeConns: 0, inactiveConns: 0, services: 0, realservers: 0 },
    owner: null,
  },
});

describe("mergeFleetSummary", () => {
  it("merges a partial push into the rows before, keeping unchanged objects", () => {
    const full: FleetSummary = {
      at: 1,
      full: true,
      clusters: [
        {
          id: "web",
          name: "Web",
          rulesDiffer: false,
          directors: [row("lb1", 1), row("lb2", 1)],
        },
        { id: "db", name: "DB", rulesDiffer: false, directors: [row("db1", 1)] },
      ],
    };
    const lb2 = row("lb2", 3);
    const push: FleetSummary = {
      at: 3,
      full: false,
      clusters: [{ id: "web", name: "Web", rulesDiffer: true, directors: [lb2] }],
    };
    const merged = mergeFleetSummary(full, push);
    expect(merged.at).toBe(3);
    expect(merged.clusters[0]?.rulesDiffer).toBe(true);
    expect(merged.clusters[0]?.directors.map((d) => d.summary?.takenAt)).toEqual([1, 3]);
    expect(merged.clusters[0]?.directors[0]).toBe(full.clusters[0]?.directors[0]);
    expect(merged.clusters[0]?.directors[1]).toBe(lb2);
    expect(merged.clusters[1]).toBe(full.clusters[1]);
    // A full push (a new subscription) replaces everything.
    expect(mergeFleetSummary(merged, full)).toBe(full);
  });
});
