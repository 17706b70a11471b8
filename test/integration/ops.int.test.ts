/**
 * Running it like a service, on a production build against the lab director: /metrics (the
 * token check, the text format, the per-realserver counters against the kernel's own
 * `ipvsadm -Ln --exact --stats`), /healthz and /readyz without a session, JSON logs with no
 * secret in them.
 */
import { testPort } from "../support/ports";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { labExec } from "../../lab/harness";
import { formatEndpoint, formatServiceKey } from "../../server/ipvs/model";
import { parseStats } from "../../server/ipvs/parse";
import { signIn, startConsole, type ConsoleServer } from "./auth-server";

const PORT = testPort(3207);
const TOKEN = randomBytes(32).toString("hex");
let server: ConsoleServer;

beforeAll(async () => {
  server = await startConsole({
    port: PORT,
    labName: inject("labName"),
    extraYaml: `metrics:\n  token: "${TOKEN}"`,
    // Short, so a scrape's lease sees the poller keep its interval (the lateness histogram).
    pollIntervalMs: 2000,
  });
});
afterAll(async () => {
  await server?.stop();
});

const scrape = (authorization?: string, cookie?: string) =>
  fetch(`${server.url}/metrics`, {
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(cookie === undefined ? {} : { cookie }),
    },
    redirect: "manual",
  });

/** name{labels} -> value, every sample line checked against the text format's grammar. */
function samples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(
        line,
      );
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    expect(Number.isNaN(Number(m[3]))).toBe(false);
    out.set(`${m[1]}${m[2] ?? ""}`, m[3] ?? "");
  }
  return out;
}

async function kernelStats(): Promise<string> {
  const r = await labExec(inject("labName"), "ipvsadm -Ln --exact --stats", { timeoutMs: 30_000 });
  expect(r.code).toBe(0);
  return r.stdout;
}

describe("/metrics", () => {
  it("refuses a missing or wrong token, and a browser session without the token", async () => {
    const cookie = await signIn(server, "admin");
    for (const res of [
      await scrape(),
      // One character off (a token ending in "0" would have matched a fixed "0").
      await scrape(`Bearer ${TOKEN.slice(0, -1)}${TOKEN.endsWith("0") ? "1" : "0"}`),
      await scrape(undefined, cookie),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("lvs_");
    }
  });

  it("serves valid Prometheus text whose realserver counters equal ipvsadm --exact --stats", async () => {
    for (let attempt = 0; ; attempt++) {
      const before = await kernelStats();
      const res = await scrape(`Bearer ${TOKEN}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const after = await kernelStats();
      // Traffic between the reads moves the counters: read again until the kernel held still.
      if (before !== after && attempt < 5) continue;
      const metrics = samples(text);
      expect(metrics.get('lvs_director_up{cluster="lab",director="lab"}')).toBe("1");
      const listing = parseStats(after);
      expect(listing.services.length).toBeGreaterThan(0);
      for (const service of listing.services) {
        for (const rs of service.realservers) {
          const labels = `{cluster="lab",director="lab",service="${formatServiceKey(service.key)}",realserver="${formatEndpoint(rs)}"}`;
          expect(metrics.get(`lvs_realserver_connections_total${labels}`), labels).toBe(
            rs.values.conns.toString(),
          );
          expect(metrics.get(`lvs_realserver_incoming_packets_total${labels}`)).toBe(
            rs.values.inPackets.toString(),
          );
          expect(metrics.get(`lvs_realserver_outgoing_packets_total${labels}`)).toBe(
            rs.values.outPackets.toString(),
          );
          expect(metrics.get(`lvs_realserver_incoming_bytes_total${labels}`)).toBe(
            rs.values.inBytes.toString(),
          );
          expect(metrics.get(`lvs_realserver_outgoing_bytes_total${labels}`)).toBe(
            rs.values.outBytes.toString(),
          );
        }
      }
      expect(text).not.toContain(TOKEN);
      return;
    }
  });

  it("records the pollers' polls: their duration per director and their lateness", async () => {
    // The production server bundles instrumentation.ts apart from the pollers: a sink set
    // there once never reached them, and both histograms stayed empty. Scrape until a
    // poller has run two polls (lateness is measured from the second), or give up.
    const labels = '{cluster="lab",director="lab"}';
    const deadline = Date.now() + 60_000;
    let metrics = new Map<string, string>();
    while (Date.now() < deadline) {
      metrics = samples(await (await scrape(`Bearer ${TOKEN}`)).text());
      if (Number(metrics.get("lvs_poll_lateness_seconds_count") ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(
      Number(metrics.get(`lvs_director_poll_duration_seconds_count${labels}`)),
    ).toBeGreaterThan(1);
    expect(Number(metrics.get("lvs_poll_lateness_seconds_count"))).toBeGreaterThan(0);
  });
});

describe("/healthz and /readyz", () => {
  it.each([
    ["/healthz", "ok\n"],
    ["/readyz", "ready\n"],
  ])("%s answers without a session, and says nothing more", async (path, body) => {
    const res = await fetch(`${server.url}${path}`, { redirect: "manual" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("logs", () => {
  it("are JSON lines with level, time and event, and hold no password, hash or token", async () => {
    const wrong = `wrong-${randomBytes(12).toString("hex")}`;
    const failed = await fetch(`${server.url}/api/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ json: { name: "viewer-user", password: wrong } }),
    });
    expect(failed.status).toBe(401);
    await signIn(server, "viewer");
    const records = server
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(["trace", "debug", "info", "warn", "error", "fatal"]).toContain(r.level);
      expect(String(r.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(typeof r.event).toBe("string");
    }
    const signIns = records.filter((r) => r.event === "sign_in" && r.user === "viewer-user");
    expect(signIns.map((r) => r.result)).toEqual(expect.arrayContaining(["UNAUTHORIZED", "ok"]));
    const text = server.output();
    for (const secret of [wrong, TOKEN, ...Object.values(server.passwords), "scrypt$"])
      expect(text).not.toContain(secret);
  });
});
