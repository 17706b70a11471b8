import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConsoleError } from "@/server/errors";
import { DirectorPoller, type PollEvent, type SnapshotReader } from "./poller";
import { testDirector } from "@/test/support/director";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DirectorPoller onPoll (the metrics hook)", () => {
  it("reports each poll's duration and, for a failed one, its error code", async () => {
    let down = false;
    const read: SnapshotReader = (d) =>
      new Promise((resolve, reject) =>
        setTimeout(() => {
          if (down) reject(new ConsoleError("UNREACHABLE", "no route", { directorId: d.id }));
          else
            resolve({
              directorId: d.id,
              clusterId: d.clusterId,
              version: "v1",
              takenAt: Date.now(),
              services: [],
              sysctls: {},
              ipvsadm: null,
              timeouts: null,
              connectionCount: 0,
            });
        }, 250),
      );
    const events: PollEvent[] = [];
    const poller = new DirectorPoller(testDirector, {
      intervalMs: 2000,
      retry: { baseMs: 2000, maxMs: 30_000 },
      read,
      onPoll: (e) => events.push(e),
    });
    const off = poller.subscribe(() => undefined);
    await vi.advanceTimersByTimeAsync(300);
    down = true;
    await vi.advanceTimersByTimeAsync(2000);
    off();
    expect(events).toEqual([
      {
        directorId: "lab1",
        clusterId: "lab",
        at: 1_000_250,
        durationMs: 250,
        error: null,
        message: null,
        version: "v1",
        lateMs: null,
      },
      {
        directorId: "lab1",
        clusterId: "lab",
        at: 1_002_250,
        durationMs: 250,
        error: "UNREACHABLE",
        message: "no route",
        version: null,
        lateMs: 0,
      },
    ]);
  });
});
