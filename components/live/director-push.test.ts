/**
 * live.director's deltas on the captured director: what the router sends (diff) and what
 * the page rebuilds (apply) are the same status, through superjson as tRPC carries them.
 */
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { samePlain } from "@/server/ipvs/plain";
import { directorPush, type DirectorPush } from "@/server/live/director-push";
import { parseSnapshot } from "@/server/live/snapshot-parse";
import type { DirectorStatus } from "@/server/live/types";
import type { DirectorOwner } from "@/server/live/owner-view";
import type { ServiceOwnership } from "@/server/ipvs/keepalived";
import { pollOutput } from "@/test/support/snapshot-output";
import { applyDirectorPush } from "./director-push";

function statusAt(takenAt: number): DirectorStatus {
  const snapshot = parseSnapshot(pollOutput("full"), {
    directorId: "lvs1",
    clusterId: "web",
    takenAt,
    previous: null,
    cached: null,
  });
  return {
    directorId: "lvs1",
    clusterId: "web",
    reachability: "live",
    snapshot,
    error: null,
    lastSuccessAt: takenAt,
    nextRetryAt: null,
  };
}

/** As the browser gets it. */
const carried = (push: DirectorPush): DirectorPush => superjson.parse(superjson.stringify(push));

describe("live.director deltas", () => {
  it("send only the services that changed, and rebuild the whole status", () => {
    const before = statusAt(1000);
    const after = statusAt(3000);
    const services = after.snapshot?.services ?? [];
    expect(services.length).toBeGreaterThan(1);
    const moved = services[1];
    if (!moved?.counters) throw new Error("the capture's second service has no counters");
    moved.counters.conns += 5n;

    const push = carried(directorPush(before, after));
    expect(push.kind).toBe("delta");
    if (push.kind !== "delta") return;
    expect(push.snapshot.services.map((s) => s !== null)).toEqual(services.map((_, i) => i === 1));
    expect(push.snapshot).not.toHaveProperty("owner");
    expect(push.snapshot.takenAt).toBe(3000);

    const kept = carried(directorPush(null, before));
    if (kept.kind !== "full") throw new Error("the first push is whole");
    expect(applyDirectorPush(kept.status, push)).toEqual(after);
    // The unchanged services are the objects the page had, so their rows skip rendering.
    const again = applyDirectorPush(kept.status, push);
    expect(again?.snapshot?.services[0]).toBe(kept.status.snapshot?.services[0]);
    expect(again?.snapshot?.services[1]).not.toBe(kept.status.snapshot?.services[1]);
  });

  it("sends the whole status first, without a snapshot, and for another director", () => {
    const s = statusAt(1000);
    expect(directorPush(null, s).kind).toBe("full");
    expect(directorPush({ ...s, snapshot: null }, s).kind).toBe("full");
    expect(directorPush(s, { ...s, snapshot: null, reachability: "unreachable" }).kind).toBe(
      "full",
    );
    expect(directorPush({ ...s, directorId: "lvs2" }, s).kind).toBe("full");
  });

  it("carries a changed owner view, and a service list that grew or shrank", () => {
    const before = statusAt(1000);
    const after = statusAt(3000);
    const snap = after.snapshot;
    if (!snap) throw new Error("no snapshot");
    snap.owner = null;
    before.snapshot = { ...(before.snapshot ?? snap), owner: undefined };
    const dropped = { ...after, snapshot: { ...snap, services: snap.services.slice(1) } };
    const push = carried(directorPush(before, dropped));
    expect(push.kind === "delta" && "owner" in push.snapshot).toBe(true);
    expect(applyDirectorPush(before, push)).toEqual(dropped);
  });

  it("keeps each service's owner part that did not change when a new owner read arrives", () => {
    const before = statusAt(1000);
    const after = statusAt(3000);
    const [a, b] = after.snapshot?.services ?? [];
    if (!before.snapshot || !after.snapshot || !a || !b) throw new Error("two services needed");
    const owner0 = {
      kind: "keepalived",
      file: "/etc/keepalived/keepalived.conf",
      line: 10,
    } as const;
    const part = (s: typeof a, weight: number): ServiceOwnership => ({
      key: s.key,
      owner: owner0,
      inKernel: true,
      drift: [],
      realservers: s.realservers.map((r) => ({
        address: r.address,
        port: r.port,
        owner: owner0,
        inKernel: true,
        kernelWeight: weight,
        configuredWeight: weight,
        inhibitOnFailure: null,
        checker: null,
        drift: [],
        undo: "",
      })),
    });
    const owner = (readAt: number, weightOfB: number) =>
      ({ readAt, services: [part(a, 1), part(b, weightOfB)] }) as unknown as DirectorOwner;
    before.snapshot.owner = owner(1000, 1);
    after.snapshot.owner = owner(3000, 0);
    const kept = carried(directorPush(null, before));
    if (kept.kind !== "full") throw new Error("the first push is whole");

    const next = applyDirectorPush(kept.status, carried(directorPush(before, after)));
    expect(next).toEqual(after);
    const [oa, ob] = next?.snapshot?.owner?.services ?? [];
    expect(oa).toBe(kept.status.snapshot?.owner?.services[0]);
    expect(ob).not.toBe(kept.status.snapshot?.owner?.services[1]);
    expect(next?.snapshot?.owner?.readAt).toBe(3000);
  });

  it("refuses a delta that does not fit what the page holds", () => {
    const before = statusAt(1000);
    const push = directorPush(before, statusAt(3000));
    expect(applyDirectorPush(undefined, push)).toBeNull();
    expect(applyDirectorPush({ ...before, directorId: "lvs2" }, push)).toBeNull();
    const shorter = {
      ...before,
      snapshot: before.snapshot && { ...before.snapshot, services: [] },
    };
    expect(applyDirectorPush(shorter, push)).toBeNull();
  });

  it("compares plain data deeply, bigint included", () => {
    expect(samePlain({ a: [1n, { b: "x" }] }, { a: [1n, { b: "x" }] })).toBe(true);
    expect(samePlain({ a: [1n] }, { a: [2n] })).toBe(false);
    expect(samePlain({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(samePlain([1], { 0: 1 })).toBe(false);
    expect(samePlain(null, {})).toBe(false);
  });
});
