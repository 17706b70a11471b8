/**
 * The history the charts read survives a restart of the console: a production build polls
 * the lab director (kept watched by /metrics scrapes), is stopped, and a new process on the
 * same data directory serves every point the first one recorded, before it polls again.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { testPort } from "../support/ports";
import { signIn, startConsole, type ConsoleServer } from "./auth-server";

const PORT = testPort(3211);
const TOKEN = randomBytes(32).toString("hex");
const servers: ConsoleServer[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
});

interface Point {
  at: number;
  cps: number;
  active: number;
}

async function series(server: ConsoleServer, cookie: string, service = ""): Promise<Point[]> {
  const input = encodeURIComponent(JSON.stringify({ json: { directorId: "lab", service } }));
  const res = await fetch(`${server.url}/api/trpc/history.series?input=${input}`, {
    headers: { cookie },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { result: { data: { json: { points: Point[] } } } };
  return body.result.data.json.points;
}

describe("history", () => {
  it("survives a console restart: the new process serves every point the old one recorded", async () => {
    const start = (dataDir?: string) =>
      startConsole({
        port: PORT,
        labName: inject("labName"),
        pollIntervalMs: 1000,
        extraYaml: `metrics:\n  token: "${TOKEN}"`,
        ...(dataDir === undefined ? {} : { dataDir }),
      });
    const first = await start();
    servers.push(first);
    const dataDir = join(first.dir, "data");
    const cookie = await signIn(first, "viewer");
    // A scrape keeps every director polled for a while: the history fills without a browser.
    expect(
      (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }))
        .status,
    ).toBe(200);
    let before: Point[] = [];
    const until = Date.now() + 60_000;
    while ((before = await series(first, cookie)).length < 4) {
      if (Date.now() > until) throw new Error(`only ${before.length} points in 60 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const service = await series(first, cookie, "TCP 203.0.113.10:80");
    expect(service.length).toBeGreaterThan(0);
    await first.stop();

    const second = await start(dataDir);
    servers.push(second);
    const again = await signIn(second, "viewer");
    const after = await series(second, again);
    // Every point from before the restart, unchanged (new polls may only add later ones).
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((p) => p.at)).toEqual(
      [...new Set(after.map((p) => p.at))].sort((a, b) => a - b),
    );
    expect((await series(second, again, "TCP 203.0.113.10:80")).slice(0, service.length)).toEqual(
      service,
    );
  }, 240_000);
});
