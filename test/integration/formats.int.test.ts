/**
 * Every format the IPVS core parses, read from the real kernel in the lab director over the
 * console's own SSH pool, and parsed. The lab boots with the rules of the captured fixture
 * (server/ipvs/__fixtures__/ipvsadm-Sn.txt), so the parsed rules must equal the fixture's.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import { formatServiceKey, type ConnectionEntry } from "@/server/ipvs/model";
import {
  mergeListings,
  parseConnections,
  parseList,
  parseProcConnections,
  parseProcServices,
  parseProcStats,
  parseRate,
  parseSaved,
  parseStats,
  parseSysctls,
  parseTimeouts,
  parseVersion,
} from "@/server/ipvs/parse";
import type { TrustStore } from "@/server/ssh/host-keys";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { labDirector } from "./lab-director";

const fixtureRules = parseSaved(
  readFileSync(new URL("../../server/ipvs/__fixtures__/ipvsadm-Sn.txt", import.meta.url), "utf8"),
);
const fixtureKeys = fixtureRules.services.map((s) => formatServiceKey(s.key)).sort();
const VIPS = new Set(["203.0.113.10", "203.0.113.11", "203.0.113.12", "2001:db8:100::10"]);

const noTrust: TrustStore = { get: () => null };
let director: DirectorConfig;
let pool: SshPool;

async function read(argv: string[]): Promise<string> {
  const r = await pool.exec(director, argv);
  expect(r.exitCode, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  director = await labDirector();
  pool = createSshPool({ trust: noTrust });
  // Fresh connections in the table: one request from every client to two services.
  await read(["lab-traffic", "probe", "--vip", "203.0.113.10:8080", "--all-clients"]);
  await read(["lab-traffic", "probe", "--vip", "203.0.113.10:80", "--all-clients"]);
});

afterAll(() => pool.closeAll());

describe("rules", () => {
  it("ipvsadm -Sn equals the rules the lab was booted with", async () => {
    expect(parseSaved(await read(["ipvsadm", "-S", "-n"]))).toEqual(fixtureRules);
  });

  it("ipvsadm -Ln lists the same services, members, forwarding methods and weights", async () => {
    const listing = parseList(await read(["ipvsadm", "-L", "-n"]));
    expect(listing.variant).toBe("plain");
    expect(listing.services.map((s) => formatServiceKey(s.key)).sort()).toEqual(fixtureKeys);
    for (const rule of fixtureRules.services) {
      const listed = listing.services.find(
        (s) => formatServiceKey(s.key) === formatServiceKey(rule.key),
      );
      expect(listed?.scheduler).toBe(rule.scheduler);
      expect(listed?.persistence).toEqual(rule.persistence);
      expect(listed?.schedFlags).toEqual(rule.schedFlags);
      expect(listed?.ops).toBe(rule.ops);
      expect(listed?.realservers.map((r) => [r.address, r.port, r.forward, r.weight])).toEqual(
        rule.realservers.map((r) => [r.address, r.port, r.forward, r.weight]),
      );
    }
  });

  it("--thresholds and --persistent-conn variants", async () => {
    const thresholds = parseList(await read(["ipvsadm", "-L", "-n", "--thresholds"]));
    expect(thresholds.variant).toBe("thresholds");
    expect(
      thresholds.services.flatMap((s) =>
        s.realservers.map((r) => [r.upperThreshold, r.lowerThreshold]),
      ),
    ).toEqual(fixtureRules.services.flatMap((s) => s.realservers.map(() => [0, 0])));
    const persistent = parseList(await read(["ipvsadm", "-L", "-n", "--persistent-conn"]));
    expect(persistent.variant).toBe("persistent-conn");
    const web = persistent.services.find((s) => formatServiceKey(s.key) === "TCP 203.0.113.10:80");
    // Every client just made a request to the persistent service: each holds a template.
    const templates = web?.realservers.reduce((n, r) => n + (r.persistentConns ?? 0), 0);
    expect(templates).toBeGreaterThanOrEqual(1);
  });

  it("--exact --stats, --exact --rate and the merge of every view of one moment", async () => {
    const stats = parseStats(await read(["ipvsadm", "-L", "-n", "--exact", "--stats"]));
    const rate = parseRate(await read(["ipvsadm", "-L", "-n", "--exact", "--rate"]));
    const list = parseList(await read(["ipvsadm", "-L", "-n"]));
    const persistent = parseList(await read(["ipvsadm", "-L", "-n", "--persistent-conn"]));
    const thresholds = parseList(await read(["ipvsadm", "-L", "-n", "--thresholds"]));
    const merged = mergeListings({ list, stats, rate, persistent, thresholds });
    expect(merged.map((s) => formatServiceKey(s.key)).sort()).toEqual(fixtureKeys);
    const alt = merged.find((s) => formatServiceKey(s.key) === "TCP 203.0.113.10:8080");
    expect(typeof alt?.counters?.conns).toBe("bigint");
    // The probes above went through this service: its counters moved.
    expect(alt?.counters?.conns).toBeGreaterThan(0n);
    expect(alt?.counters?.inBytes).toBeGreaterThan(0n);
    // Its counters are the sum of its members' (the kernel keeps both).
    const sum = alt?.realservers.reduce((n, r) => n + (r.counters?.conns ?? 0n), 0n);
    expect(sum).toBe(alt?.counters?.conns);
    expect(alt?.rates?.cps).toBeGreaterThanOrEqual(0);
  });

  it("/proc/net/ip_vs (hex) holds the same services", async () => {
    const proc = parseProcServices(await read(["cat", "/proc/net/ip_vs"]));
    expect(
      proc
        .map((s) => (s.key.kind === "fwm" ? `FWM ${s.key.mark}` : formatServiceKey(s.key)))
        .sort(),
    ).toEqual(fixtureKeys);
  });
});

describe("connection table", () => {
  function checkEntries(entries: ConnectionEntry[]): void {
    expect(entries.length).toBeGreaterThanOrEqual(10);
    for (const e of entries) {
      expect(VIPS.has(e.virtual.address), `${e.virtual.address} is a VIP`).toBe(true);
      expect(e.destination.address).toMatch(/^10\.10\.0\.1[1-5]$|^2001:db8:200::1[12]$/);
      expect(e.template).toBe(e.client.port === 0);
    }
    // Ten clients, each with a template on the persistent service.
    expect(
      entries.filter((e) => e.template && e.virtual.port === 80).length,
    ).toBeGreaterThanOrEqual(1);
    expect(entries.some((e) => e.protocol === "TCP" && e.virtual.port === 8080)).toBe(true);
  }

  it("ipvsadm -Lnc and -Lnc --persistent-conn", async () => {
    checkEntries(parseConnections(await read(["ipvsadm", "-L", "-n", "-c"])));
    checkEntries(parseConnections(await read(["ipvsadm", "-L", "-n", "-c", "--persistent-conn"])));
  });

  it("/proc/net/ip_vs_conn (hex) agrees with -Lnc", async () => {
    // One remote command, so both views are of (almost) the same moment.
    const r = await pool.execScript(
      director,
      "ipvsadm -Lnc; echo @@split@@; cat /proc/net/ip_vs_conn",
    );
    const [listed = "", proc = ""] = r.stdout.split("@@split@@\n");
    const a = parseConnections(listed);
    const b = parseProcConnections(proc);
    checkEntries(b);
    const key = (e: ConnectionEntry) =>
      `${e.protocol} ${e.client.address}:${e.client.port} ${e.virtual.address}:${e.virtual.port} ${e.destination.address}:${e.destination.port}`;
    // Entries may expire between the two reads, never appear from nowhere in large numbers.
    const inBoth = b.filter((e) => a.some((x) => key(x) === key(e)));
    expect(inBoth.length).toBeGreaterThanOrEqual(b.length - 2);
  });

  it("/proc/net/ip_vs_stats (hex)", async () => {
    const stats = parseProcStats(await read(["cat", "/proc/net/ip_vs_stats"]));
    expect(stats.totals.conns).toBeGreaterThan(0n);
    expect(stats.totals.inPackets).toBeGreaterThan(0n);
  });
});

describe("settings", () => {
  it("ipvsadm -L --timeout", async () => {
    expect(parseTimeouts(await read(["ipvsadm", "-L", "--timeout"]))).toEqual({
      tcp: 900,
      tcpFin: 120,
      udp: 300,
    });
  });

  it("ipvsadm --version", async () => {
    expect(parseVersion(await read(["ipvsadm", "--version"]))).toMatchObject({
      ipvsadm: "1.31",
      ipvs: "1.2.1",
    });
  });

  it("the net.ipv4.vs sysctls", async () => {
    const sysctls = parseSysctls(await read(["grep", "-r", ".", "/proc/sys/net/ipv4/vs/"]));
    expect(sysctls.conn_reuse_mode).toEqual([1]);
    expect(sysctls.expire_nodest_conn).toEqual([0]);
    expect(sysctls.expire_quiescent_template).toEqual([0]);
    expect(sysctls.sync_threshold).toEqual([3, 50]);
  });
});
