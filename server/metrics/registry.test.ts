import { describe, expect, it } from "vitest";
import { parseSnapshot } from "@/server/live/snapshot-parse";
import { pollOutput } from "@/test/support/snapshot-output";
import type { DirectorSnapshot, DirectorStatus } from "@/server/live/types";
import { createConsoleMetrics, type ConsoleCounts, type MetricSources } from "./registry";

/** The captured lab director, parsed the way a poll parses it. */
function capturedSnapshot(directorId = "lvs1", clusterId = "web"): DirectorSnapshot {
  return parseSnapshot(pollOutput("full"), {
    directorId,
    clusterId,
    takenAt: 1_700_000_000_000,
    previous: null,
    cached: null,
  });
}

function live(snapshot: DirectorSnapshot): DirectorStatus {
  return {
    directorId: snapshot.directorId,
    clusterId: snapshot.clusterId,
    reachability: "live",
    snapshot,
    error: null,
    lastSuccessAt: snapshot.takenAt,
    nextRetryAt: null,
  };
}

const unreachable: DirectorStatus = {
  directorId: "lvs2",
  clusterId: "web",
  reachability: "unreachable",
  snapshot: null,
  error: { code: "UNREACHABLE", message: "no route", details: {} },
  lastSuccessAt: null,
  nextRetryAt: null,
};

const counts: ConsoleCounts = {
  drainsByState: { draining: 1, drained: 2, undrained: 0, removed: 0 },
  auditByActionResult: [
    { action: "change", result: "ok", count: 5 },
    { action: "change", result: "pending", count: 1 },
    { action: "drain.start", result: "pending", count: 2 },
  ],
};

function sources(statuses: DirectorStatus[], connects: Record<string, number> = {}): MetricSources {
  return {
    directors: () => statuses,
    sshConnects: (id) => connects[id] ?? 0,
    console: () => counts,
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}

/** The sample lines of the text format (a strict reading: a malformed line fails the test). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ""] = l[2] ?? "";
    out.push({ name: m[1] ?? "", labels, value: m[3] ?? "" });
  }
  return out;
}

function valueOf(list: Sample[], name: string, labels: Record<string, string>): string | undefined {
  return list.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

async function scrape(metrics: ReturnType<typeof createConsoleMetrics>): Promise<Sample[]> {
  return samples(await metrics.scrape());
}

/** A small cap on realserver label sets (production: MAX_REALSERVER_SERIES), for a quick test. */
const CAP = 100;

/** Realservers in the capture, over its 7 services. */
const PER_DIRECTOR = 16;

const rs = (service: string, realserver: string) => ({
  cluster: "web",
  director: "lvs1",
  service,
  realserver,
});

describe("the /metrics registry", () => {
  it("exposes every realserver of the captured director with its exact counters and connection counts", async () => {
    const list = await scrape(createConsoleMetrics(sources([live(capturedSnapshot())])));
    const web = rs("TCP 203.0.113.10:80", "10.10.0.11:80");
    expect(valueOf(list, "lvs_realserver_weight", web)).toBe("1");
    expect(valueOf(list, "lvs_realserver_persistent_connections", web)).toBe("3");
    expect(valueOf(list, "lvs_realserver_active_connections", web)).toBe("3");
    expect(valueOf(list, "lvs_realserver_inactive_connections", web)).toBe("10");
    // ipvsadm -Ln --exact --stats: 13 conns, 87/72 packets, 5667/6087 bytes.
    expect(valueOf(list, "lvs_realserver_connections_total", web)).toBe("13");
    expect(valueOf(list, "lvs_realserver_incoming_packets_total", web)).toBe("87");
    expect(valueOf(list, "lvs_realserver_outgoing_packets_total", web)).toBe("72");
    expect(valueOf(list, "lvs_realserver_incoming_bytes_total", web)).toBe("5667");
    expect(valueOf(list, "lvs_realserver_outgoing_bytes_total", web)).toBe("6087");

    const v6 = rs("TCP [2001:db8:100::10]:80", "[2001:db8:200::12]:80");
    expect(valueOf(list, "lvs_realserver_incoming_bytes_total", v6)).toBe("1116");
    const fwm = rs("FWM 1", "10.10.0.12:80");
    expect(valueOf(list, "lvs_realserver_outgoing_bytes_total", fwm)).toBe("8132");
    const drained = rs("TCP 203.0.113.10:8080", "10.10.0.13:80");
    expect(valueOf(list, "lvs_realserver_weight", drained)).toBe("0");

    // 16 realservers in 7 services in the capture.
    expect(list.filter((s) => s.name === "lvs_realserver_weight")).toHaveLength(PER_DIRECTOR);
    expect(list.filter((s) => s.name === "lvs_service_connections_total")).toHaveLength(7);
  });

  it("sums a service's connections and carries the service counters", async () => {
    const list = await scrape(createConsoleMetrics(sources([live(capturedSnapshot())])));
    const service = { cluster: "web", director: "lvs1", service: "TCP 203.0.113.10:80" };
    expect(valueOf(list, "lvs_service_connections_total", service)).toBe("43");
    expect(valueOf(list, "lvs_service_outgoing_bytes_total", service)).toBe("20009");
    expect(valueOf(list, "lvs_service_active_connections", service)).toBe("10");
    expect(valueOf(list, "lvs_service_inactive_connections", service)).toBe("33");
    expect(valueOf(list, "lvs_service_realservers", service)).toBe("3");
  });

  it("says which directors are up and gives an unreachable one no service series", async () => {
    const list = await scrape(
      createConsoleMetrics(sources([live(capturedSnapshot()), unreachable])),
    );
    expect(valueOf(list, "lvs_director_up", { director: "lvs1" })).toBe("1");
    expect(valueOf(list, "lvs_director_up", { director: "lvs2", cluster: "web" })).toBe("0");
    expect(valueOf(list, "lvs_director_last_success_timestamp_seconds", { director: "lvs1" })).toBe(
      "1700000000",
    );
    expect(
      list.some((s) => s.labels.director === "lvs2" && s.name.startsWith("lvs_realserver")),
    ).toBe(false);
  });

  it("says which director is the VRRP MASTER, and nothing where no VRRP state was read", async () => {
    const role = (directorId: string, r: "MASTER" | "BACKUP" | "FAULT" | null) => {
      const s = capturedSnapshot(directorId);
      const owner = { role: r } as NonNullable<DirectorSnapshot["owner"]>;
      return live({ ...s, owner });
    };
    const metrics = createConsoleMetrics(
      sources([role("a", "MASTER"), role("b", "BACKUP"), role("c", "FAULT"), role("d", null)]),
    );
    const list = samples(await metrics.scrape()).filter(
      (x) => x.name === "lvs_director_vrrp_master",
    );
    expect(list.map((x) => [x.labels.director, x.labels.cluster, x.value])).toEqual([
      ["a", "web", "1"],
      ["b", "web", "0"],
      ["c", "web", "0"],
    ]);
  });

  it("records poll durations and errors by code", async () => {
    const metrics = createConsoleMetrics(sources([unreachable]));
    const base = { directorId: "lvs2", clusterId: "web" };
    metrics.recordPoll({ ...base, at: 2_000_000, durationMs: 300, error: null, lateMs: 40 });
    metrics.recordPoll({
      ...base,
      at: 2_001_000,
      durationMs: 10_500,
      error: "UNREACHABLE",
      lateMs: 1500,
    });
    metrics.recordPoll({
      ...base,
      at: 2_002_000,
      durationMs: 10_400,
      error: "UNREACHABLE",
      lateMs: null,
    });
    const list = await scrape(metrics);
    const labels = { cluster: "web", director: "lvs2" };
    expect(valueOf(list, "lvs_director_poll_duration_seconds_count", labels)).toBe("3");
    expect(
      valueOf(list, "lvs_director_poll_duration_seconds_bucket", { ...labels, le: "0.5" }),
    ).toBe("1");
    expect(Number(valueOf(list, "lvs_director_poll_duration_seconds_sum", labels))).toBeCloseTo(
      21.2,
    );
    expect(
      valueOf(list, "lvs_director_poll_errors_total", { ...labels, code: "UNREACHABLE" }),
    ).toBe("2");
    expect(valueOf(list, "lvs_director_last_poll_timestamp_seconds", labels)).toBe("2002");
    // Lateness: one fleet-wide series, a poll without a cadence (null) not counted.
    expect(valueOf(list, "lvs_poll_lateness_seconds_count", {})).toBe("2");
    expect(valueOf(list, "lvs_poll_lateness_seconds_bucket", { le: "0.05" })).toBe("1");
    expect(valueOf(list, "lvs_poll_lateness_seconds_bucket", { le: "1" })).toBe("1");
  });

  it("counts SSH reconnects monotonically, across a pool entry that starts again", async () => {
    const connects: Record<string, number> = { lvs1: 1 };
    const metrics = createConsoleMetrics(sources([live(capturedSnapshot())], connects));
    const reconnects = async () =>
      valueOf(await scrape(metrics), "lvs_director_ssh_reconnects_total", { director: "lvs1" });
    expect(await reconnects()).toBe("0");
    connects.lvs1 = 3;
    expect(await reconnects()).toBe("2");
    connects.lvs1 = 1; // the pool closed the entry and opened a new connection
    expect(await reconnects()).toBe("3");
  });

  it("exposes console counts and sign-ins by result", async () => {
    const metrics = createConsoleMetrics(sources([]));
    metrics.recordSignIn("failure");
    metrics.recordSignIn("failure");
    metrics.recordSignIn("success");
    const list = await scrape(metrics);
    expect(valueOf(list, "lvs_console_sign_ins_total", { result: "failure" })).toBe("2");
    expect(valueOf(list, "lvs_console_sign_ins_total", { result: "success" })).toBe("1");
    expect(valueOf(list, "lvs_console_sign_ins_total", { result: "rate_limited" })).toBe("0");
    expect(valueOf(list, "lvs_console_drains", { state: "drained" })).toBe("2");
    expect(valueOf(list, "lvs_console_changes", { result: "ok" })).toBe("5");
    expect(valueOf(list, "lvs_console_audit_pending", {})).toBe("3");
  });

  it("scrapes one metric per turn of the event loop, in prom-client's text, one scrape at a time", async () => {
    const metrics = createConsoleMetrics(sources([live(capturedSnapshot()), unreachable]));
    const expected = await metrics.registry.metrics();
    let turns = 0;
    const tick = () => {
      turns++;
      if (turns < 1000) setImmediate(tick);
    };
    setImmediate(tick);
    const first = metrics.scrape();
    const second = metrics.scrape();
    expect(second).toBe(first);
    const [a, b] = await Promise.all([first, second]);
    const during = turns;
    turns = 1000;
    expect(a).toBe(expected);
    expect(b).toBe(a);
    // The loop turned between metrics (a request or a poll would have been served).
    expect(during).toBeGreaterThanOrEqual(metrics.registry.getMetricsAsArray().length - 1);
  });

  it("keeps 64-bit counters as Prometheus would store them", async () => {
    const snapshot = capturedSnapshot();
    const big = 2n ** 64n - 1n;
    const first = snapshot.services[0]?.realservers[0];
    if (!first?.counters) throw new Error("the capture has counters");
    first.counters = { ...first.counters, inBytes: big, outBytes: 2n ** 53n - 1n };
    const list = await scrape(createConsoleMetrics(sources([live(snapshot)])));
    const labels = rs("TCP 203.0.113.10:80", "10.10.0.11:80");
    // Exact below 2^53; above, the nearest float64, the value Prometheus parses from any text.
    expect(valueOf(list, "lvs_realserver_outgoing_bytes_total", labels)).toBe("9007199254740991");
    const huge = valueOf(list, "lvs_realserver_incoming_bytes_total", labels);
    expect(Number(huge)).toBe(Number(big));
    expect(Number(huge)).toBe(parseFloat(big.toString()));
  });

  it("names every metric lvs_*, counters *_total, and bounds the realserver series", async () => {
    const captured = capturedSnapshot();
    const fleet = Array.from({ length: Math.ceil(CAP / PER_DIRECTOR) + 1 }, (_, i) =>
      live({ ...captured, directorId: `lvs${i}` }),
    );
    const metrics = createConsoleMetrics(sources(fleet), CAP);
    const text = await metrics.scrape();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      expect(m[1]).toMatch(/^lvs_[a-z_]+$/);
      if (m[2] === "counter") expect(m[1]).toMatch(/_total$/);
    }
    const list = samples(text);
    expect(list.filter((s) => s.name === "lvs_realserver_weight")).toHaveLength(CAP);
    expect(Number(valueOf(list, "lvs_metrics_realservers_omitted", {}))).toBe(
      fleet.length * PER_DIRECTOR - CAP,
    );
    expect(list.filter((s) => s.name === "lvs_director_up")).toHaveLength(fleet.length);
  });
});
