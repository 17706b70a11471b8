/**
 * Live state against the real lab director: the one-command snapshot, the shared poller
 * (fan-out), and the connection table filtered on the director.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, setConfig, type DirectorConfig } from "@/server/config";
import { DEFAULT_FULL_READ_EVERY } from "@/server/config/schema";
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import { parseConnections } from "@/server/ipvs/parse";
import {
  connectionFilterSchema,
  connectionsQuerySchema,
  type ConnectionsQueryInput,
} from "@/server/ipvs/connections-filter";
import { connTablesFor, listConnections, readConnectionsNow } from "@/server/live/connections";
import type { ConnTables } from "@/server/live/conn-tables";
import { DirectorPoller, type SnapshotReader } from "@/server/live/poller";
import { lastRead, readSnapshot } from "@/server/live/snapshot";
import { slotOf } from "@/server/live/spread";
import { rulesOf } from "@/server/ipvs/rules";
import type { DirectorStatus } from "@/server/live/types";
import type { DirectorPush } from "@/server/live/director-push";
import { applyDirectorPush } from "@/components/live/director-push";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { createCallerFactory, createContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { labExec } from "../../lab/harness";
import { labCommandCount } from "./auth-server";
import { labDirector, labName } from "./lab-director";

let director: DirectorConfig;
let pool: SshPool;

beforeAll(async () => {
  director = await labDirector();
  pool = createSshPool({ trust: { get: () => null } });
  setConfig(
    configFromObject({
      pollIntervalMs: 500,
      clusters: [
        {
          id: "lab",
          name: "Lab",
          directors: [
            {
              id: director.id,
              host: director.host,
              port: director.port,
              privateKeyPath: director.privateKeyPath,
              hostKeyFingerprint: director.hostKeyFingerprint,
            },
          ],
        },
      ],
    }),
  );
});

afterAll(async () => {
  pool.closeAll();
  await labExec(labName(), "lab-traffic stop >/dev/null 2>&1; true");
  setConfig(undefined);
});

describe("readSnapshot", () => {
  it("reads every service of the lab in one SSH command", async () => {
    const before = pool.stats(director.id).commands;
    const snapshot = await readSnapshot(director, { pool });
    expect(pool.stats(director.id).commands - before).toBe(1);
    expect(snapshot.services.map((s) => formatServiceKey(s.key)).sort()).toEqual(
      [
        "FWM 1",
        "TCP 203.0.113.10:80",
        "TCP 203.0.113.10:8080",
        "TCP 203.0.113.11:443",
        "TCP [2001:db8:100::10]:80",
        "UDP 203.0.113.10:123",
        "UDP 203.0.113.10:53",
      ].sort(),
    );
    const https = snapshot.services.find((s) => formatServiceKey(s.key) === "TCP 203.0.113.11:443");
    expect(
      https?.realservers.map((r) => [formatEndpoint(r), r.forward, r.tunnel?.type ?? null]),
    ).toEqual([
      ["10.10.0.13:443", "masq", null],
      ["10.10.0.14:443", "route", null],
      ["10.10.0.15:443", "tunnel", "ipip"],
    ]);
    const web = snapshot.services.find((s) => formatServiceKey(s.key) === "TCP 203.0.113.10:80");
    expect(web?.persistence?.timeout).toBe(300);
    expect(web?.realservers.every((r) => r.persistentConns !== null && r.counters !== null)).toBe(
      true,
    );
    expect(snapshot.ipvsadm?.ipvsadm).toBe("1.31");
    expect(snapshot.timeouts?.tcp).toBeGreaterThan(0);
    expect(snapshot.sysctls.expire_quiescent_template).toHaveLength(1);
    expect(snapshot.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it("derives rates from the previous poll and keeps the version when the rules did not change", async () => {
    const first = await readSnapshot(director, { pool });
    await labExec(
      labName(),
      "lab-traffic probe --vip 203.0.113.10:8080 --all-clients --count 2 >/dev/null",
    );
    await new Promise((r) => setTimeout(r, 2100)); // --stats lags up to 2 s
    const second = await readSnapshot(director, { pool, previous: first });
    expect(second.version).toBe(first.version);
    const svc = second.services.find((s) => formatServiceKey(s.key) === "TCP 203.0.113.10:8080");
    expect(svc?.rates?.cps).toBeGreaterThan(0);
    // version and timeouts were read on the first poll of this connection only
    expect(second.ipvsadm).toEqual(first.ipvsadm);
  });

  it("polls light between full reads, with the full read's version and rules, and reads everything again after a change behind its back", async () => {
    const p = createSshPool({ trust: { get: () => null } });
    const member = "-t 203.0.113.10:8080 -r 10.10.0.13:80 -m";
    try {
      const first = await readSnapshot(director, { pool: p, mode: "poll" });
      expect(lastRead(director.id, p)).toEqual({ kind: "full", tunnels: true, meta: true });
      let light = await readSnapshot(director, { pool: p, mode: "poll", previous: first });
      // The first full read on a connection counts as the director's slot of light reads
      // (spread.ts): in the last slot the next read is the next full one, then light.
      const lastSlot = slotOf(director.id, DEFAULT_FULL_READ_EVERY) === DEFAULT_FULL_READ_EVERY - 1;
      expect(lastRead(director.id, p)?.kind).toBe(lastSlot ? "full" : "light");
      if (lastSlot)
        light = await readSnapshot(director, { pool: p, mode: "poll", previous: light });
      expect(lastRead(director.id, p)?.kind).toBe("light");
      expect(light.version).toBe(first.version);
      expect(rulesOf(light.services)).toEqual(rulesOf(first.services));
      const https = light.services.find((s) => formatServiceKey(s.key) === "TCP 203.0.113.11:443");
      expect(https?.realservers.map((r) => r.tunnel?.type ?? null)).toEqual([null, null, "ipip"]);

      await labExec(labName(), `ipvsadm -e ${member} -w 7`);
      const after = await readSnapshot(director, { pool: p, mode: "poll", previous: light });
      expect(lastRead(director.id, p)?.kind).toBe("full");
      expect(after.version).not.toBe(first.version);
      expect(after.version).toBe((await readSnapshot(director, { pool: p })).version);
    } finally {
      await labExec(labName(), `ipvsadm -e ${member} -w 0`);
      p.closeAll();
    }
  });

  it("works through sudo as the unprivileged user", async () => {
    const snapshot = await readSnapshot(
      { ...director, id: "lab-sudo", user: "lvs", sudo: true },
      { pool },
    );
    expect(snapshot.services).toHaveLength(7);
  });
});

describe("the poller", () => {
  async function commandsWhileWatching(
    subscribers: number,
    ms: number,
  ): Promise<{ commands: number; polls: number; updates: number[] }> {
    const p = createSshPool({ trust: { get: () => null } });
    const read: SnapshotReader = (d, o) => readSnapshot(d, { ...o, pool: p });
    try {
      await p.exec(director, ["true"]); // connect first: the handshake is not what we count
      const poller = new DirectorPoller(director, {
        intervalMs: 500,
        retry: { baseMs: 2000, maxMs: 30_000 },
        read,
      });
      const updates = Array.from({ length: subscribers }, () => 0);
      const before = p.stats(director.id).commands;
      const offs = updates.map((_, i) =>
        poller.subscribe(() => void (updates[i] = (updates[i] ?? 0) + 1)),
      );
      await new Promise((r) => setTimeout(r, ms));
      offs.forEach((off) => off());
      return { commands: p.stats(director.id).commands - before, polls: poller.polls, updates };
    } finally {
      p.closeAll();
    }
  }

  it("costs the same SSH work for 50 subscribers as for 1", async () => {
    const one = await commandsWhileWatching(1, 3000);
    const fifty = await commandsWhileWatching(50, 3000);
    expect(one.commands).toBeGreaterThanOrEqual(3);
    // one command per poll, whatever the number of subscribers (+1: the poll in flight
    // when the last subscriber left is cancelled and not counted as a poll)
    expect(one.commands - one.polls).toBeGreaterThanOrEqual(0);
    expect(one.commands - one.polls).toBeLessThanOrEqual(1);
    expect(fifty.commands - fifty.polls).toBeGreaterThanOrEqual(0);
    expect(fifty.commands - fifty.polls).toBeLessThanOrEqual(1);
    // (How many polls fit in 3 s depends on the machine's load, so the two runs' totals are
    // not compared: the work per poll is. npm run bench compares them side by side.)
    expect(new Set(fifty.updates)).toEqual(new Set([fifty.polls]));
  });

  it("reports an unreachable director with the error, and keeps trying", async () => {
    const p = createSshPool({ trust: { get: () => null } });
    const dead = { ...director, id: "dead", port: 1 };
    const poller = new DirectorPoller(dead, {
      intervalMs: 500,
      retry: { baseMs: 300, maxMs: 1000 },
      read: (d, o) => readSnapshot(d, { ...o, pool: p }),
    });
    const seen: DirectorStatus[] = [];
    const off = poller.subscribe((s) => seen.push(s));
    await new Promise((r) => setTimeout(r, 2500));
    off();
    p.closeAll();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toMatchObject({
      reachability: "unreachable",
      snapshot: null,
      error: { code: "UNREACHABLE" },
    });
    expect(seen[0]?.nextRetryAt).toBeGreaterThan(Date.now() - 2500);
  });
});

describe("the connection table", () => {
  let tables: ConnTables;
  beforeAll(() => {
    tables = connTablesFor(
      () => pool,
      () => 500,
    );
  });
  afterAll(() => tables.closeAll());
  const query = (input: Omit<ConnectionsQueryInput, "directorId">) =>
    listConnections(connectionsQuerySchema.parse({ directorId: director.id, ...input }), {
      pool,
      tables,
    });

  it("filters by state and realserver on the console's read of the table, matching ipvsadm -Lnc", async () => {
    const hold = await labExec(
      labName(),
      "lab-traffic hold --vip 203.0.113.10:80 --count 4 --seconds 30 --from 203.0.113.105",
    );
    expect(hold.code).toBe(0);
    const page = await query({
      filter: { state: "ESTABLISHED", client: "203.0.113.105" },
      limit: 500,
    });
    const truth = parseConnections((await labExec(labName(), "ipvsadm -Lnc")).stdout).filter(
      (e) => e.state === "ESTABLISHED" && e.client.address === "203.0.113.105",
    );
    expect(page.matched).toBe(truth.length);
    expect(page.matched).toBeGreaterThanOrEqual(4);
    expect(page.countsByState).toEqual({ ESTABLISHED: page.matched });
    expect(
      page.entries.every((e) => e.state === "ESTABLISHED" && e.client.address === "203.0.113.105"),
    ).toBe(true);

    const [realserver] = Object.keys(page.countsByRealserver);
    expect(realserver).toBeDefined();
    const byRs = await query({
      filter: { state: "ESTABLISHED", client: "203.0.113.105", realserver },
      limit: 2,
    });
    expect(byRs.matched).toBe(page.countsByRealserver[realserver ?? ""]);
    expect(byRs.entries.length).toBe(Math.min(2, byRs.matched));
    expect(byRs.entries.every((e) => formatEndpoint(e.destination) === realserver)).toBe(true);
    expect(byRs.total).toBeGreaterThanOrEqual(page.matched);
  });

  it("answers every filter from one read of the table: no command per query", async () => {
    // No scheduled read for a minute: whatever reaches the director here is ours. (The
    // other tests' tables would go on reading for their lease: stop them.)
    tables.closeAll();
    const quiet = connTablesFor(
      () => pool,
      () => 60_000,
    );
    try {
      const first = await readConnectionsNow(director.id, { tables: quiet });
      const before = await labCommandCount(labName());
      const filters = [
        {},
        { state: "ESTABLISHED" },
        { client: "203.0.113.0/24" },
        { realserver: "10.10.0.11" },
        { service: "TCP 203.0.113.10:80" },
        { templates: true },
      ];
      const pages = [];
      for (const filter of filters) {
        pages.push(
          await listConnections(
            connectionsQuerySchema.parse({ directorId: director.id, filter, limit: 5 }),
            { pool, tables: quiet },
          ),
        );
      }
      // One session: the count itself.
      expect((await labCommandCount(labName())) - before).toBe(1);
      expect(pages.every((p) => p.read.readId === first.readId)).toBe(true);
      expect(pages[0]?.matched).toBe(pages[0]?.total);
      expect(pages[0]?.entries).toHaveLength(Math.min(5, pages[0]?.total ?? 0));
    } finally {
      quiet.closeAll();
    }
  });

  it("keeps a paused view's read while newer reads arrive", async () => {
    const first = await readConnectionsNow(director.id, { tables });
    const filter = { client: "203.0.113.108", state: "ESTABLISHED" };
    // Pausing: the view's next query names the read it shows, which pins it.
    const pausedBefore = await query({ filter, readId: first.readId });
    // Three connections from a client nobody else uses in this file, then a new read.
    const hold = await labExec(
      labName(),
      "lab-traffic hold --vip 203.0.113.10:8080 --count 3 --seconds 30 --from 203.0.113.108",
    );
    expect(hold.code).toBe(0);
    const held = Date.now();
    // A read that started after the hold (a scheduled one may have started before it).
    let second = await readConnectionsNow(director.id, { tables });
    for (let i = 0; i < 10 && second.takenAt - second.readMs < held; i++) {
      await new Promise((r) => setTimeout(r, 300));
      second = await readConnectionsNow(director.id, { tables });
    }
    expect(second.takenAt - second.readMs).toBeGreaterThanOrEqual(held);
    const paused = await query({ filter, readId: first.readId });
    expect(paused.matched).toBe(pausedBefore.matched);
    const latest = await query({ filter });
    expect(paused.read.readId).toBe(first.readId);
    expect(latest.matched - paused.matched).toBeGreaterThanOrEqual(3);
    await expect(query({ filter, readId: first.readId + 1000 })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("answers through the tRPC routers too", async () => {
    const caller = createCallerFactory(appRouter)(
      createContext({ user: { name: "viewer", role: "viewer" } }),
    );
    const clusters = await caller.inventory.list();
    expect(clusters).toEqual([
      {
        id: "lab",
        name: "Lab",
        directors: [
          {
            id: director.id,
            clusterId: "lab",
            host: director.host,
            port: director.port,
            user: "root",
            sudo: false,
            hostKey: "pinned",
            jumpHost: null,
          },
        ],
      },
    ]);
    expect(JSON.stringify(clusters)).not.toContain(director.privateKeyPath ?? "?");
    const status = await caller.live.status({ directorId: director.id });
    expect(status.reachability).toBe("live");
    const page = await caller.connections.list({
      directorId: director.id,
      filter: { templates: true },
      offset: 0,
      limit: 10,
    });
    expect(page.entries.every((e) => e.template)).toBe(true);
    await expect(
      caller.connections.list({
        directorId: director.id,
        filter: { state: "BOGUS" },
        offset: 0,
        limit: 10,
      }),
    ).rejects.toThrow(/a state is one of/);

    // live.director: the current status first, then one per poll, until the signal aborts
    const controller = new AbortController();
    const streaming = createCallerFactory(appRouter)(
      createContext({ user: { name: "viewer", role: "viewer" } }),
      { signal: controller.signal },
    );
    const stream = await streaming.live.director({ directorId: director.id });
    const got: DirectorStatus[] = [];
    const kinds: string[] = [];
    for await (const event of stream) {
      // Whole first, then deltas against the push before (director-push.ts)
      const [id, push] = event as unknown as [string, DirectorPush];
      const value = applyDirectorPush(got.at(-1), push);
      if (!value) throw new Error(`a ${push.kind} push that does not apply`);
      expect(id).toBe(String(value.snapshot?.takenAt ?? value.nextRetryAt ?? 0));
      kinds.push(push.kind);
      got.push(value);
      if (got.length === 3) controller.abort();
    }
    expect(got.length).toBe(3);
    // (the second is whole too when the poller had not polled yet: nothing to diff against)
    expect([kinds[0], kinds[2]]).toEqual(["full", "delta"]);
    // The deltas rebuild what a one-off read of the director returns, rules and all.
    expect(got[2]?.snapshot?.services.map((s) => s.key)).toEqual(
      (await caller.live.status({ directorId: director.id })).snapshot?.services.map((s) => s.key),
    );
    expect(got[2]?.reachability).toBe("live");
    expect(got[2]?.snapshot?.takenAt).toBeGreaterThan(got[1]?.snapshot?.takenAt ?? Infinity);
    expect(connectionFilterSchema.safeParse({ client: "$(reboot)" }).success).toBe(false);
  });
});
