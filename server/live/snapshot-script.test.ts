import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isConsoleError } from "@/server/errors";
import { formatServiceKey, type ServiceState } from "@/server/ipvs/model";
import { parseSnapshot, rulesVersion, SNAPSHOT_SCRIPT, splitSections, withRates } from "./snapshot-script";

const fixture = (name: string) => readFileSync(new URL(`../ipvs/__fixtures__/${name}`, import.meta.url), "utf8");
const MARK = "@@lvs-console:9c1f@@";

/** --thresholds output made from the --persistent-conn fixture (same services and members). */
function thresholdsFixture(): string {
  return fixture("ipvsadm-Ln--persistent-conn.txt")
    .split("\n")
    .map((line) => {
      if (line.startsWith("Prot ")) return "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn";
      const m = /^ {2}-> (\S+)\s+\d+\s+\d+\s+(\d+)\s+(\d+)/.exec(line);
      if (!m) return line;
      const [upper, lower] = m[1] === "10.10.0.13:443" ? [100, 50] : [0, 0];
      return `  -> ${m[1]} ${upper} ${lower} ${m[2]} ${m[3]}`;
    })
    .join("\n");
}

/** --tun-info output made from the plain listing of the same capture. */
function tunInfoFixture(): string {
  return fixture("ipvsadm-Ln.txt")
    .split("\n")
    .map((line) => {
      if (line.startsWith("  -> RemoteAddress:Port")) return "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn";
      const m = /^ {2}-> (\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
      if (!m) return line;
      return `  -> ${m[1]} ${m[2]} ${m[2] === "Tunnel" ? "ipip" : "n/a"} ${m[3]} ${m[4]} ${m[5]}`;
    })
    .join("\n");
}

/** The grep section: every line prefixed with its file, as `grep -H ''` prints it. */
function filesSection(proc = fixture("proc-net-ip_vs.txt")): string {
  const procLines = proc.replace(/\n$/, "").split("\n").map((l) => `/proc/net/ip_vs:${l}`);
  return [...procLines, ...fixture("sysctl-net-ipv4-vs.txt").replace(/\n$/, "").split("\n")].join("\n");
}

function sections(parts: Record<string, string>, exitCodes: Record<string, number> = {}): string {
  return Object.entries(parts)
    .map(([name, text]) => `${MARK} ${name}\n${text.replace(/\n$/, "")}\n${MARK} exit ${exitCodes[name] ?? 0}\n`)
    .join("");
}

function pollOutput(full: boolean, options: { tunInfo?: boolean; proc?: string } = {}): string {
  return sections({
    files: filesSection(options.proc),
    persistent: fixture("ipvsadm-Ln--persistent-conn.txt"),
    thresholds: thresholdsFixture(),
    stats: fixture("ipvsadm-Ln--exact--stats.txt"),
    ...(options.tunInfo === false ? {} : { tuninfo: tunInfoFixture() }),
    ...(full ? { version: fixture("ipvsadm--version.txt"), timeout: fixture("ipvsadm-L--timeout.txt") } : {}),
  });
}

const ctx = { directorId: "lab1", clusterId: "lab", takenAt: 1_000_000, previous: null, cached: null };

describe("parseSnapshot", () => {
  it("merges one poll's sections into every service of the director", () => {
    const snapshot = parseSnapshot(pollOutput(true), ctx);
    expect(snapshot.services.map((s) => formatServiceKey(s.key))).toEqual([
      "TCP 203.0.113.10:80",
      "TCP 203.0.113.10:8080",
      "TCP 203.0.113.11:443",
      "UDP 203.0.113.10:53",
      "UDP 203.0.113.10:123",
      "TCP [2001:db8:100::10]:80",
      "FWM 1",
    ]);
    const https = snapshot.services[2];
    expect(https?.persistence).toEqual({ timeout: 120, netmask: "255.255.255.0" });
    expect(https?.realservers.map((r) => [r.address, r.forward, r.weight, r.upperThreshold, r.lowerThreshold, r.tunnel?.type])).toEqual([
      ["10.10.0.13", "masq", 2, 100, 50, undefined],
      ["10.10.0.14", "route", 1, 0, 0, undefined],
      ["10.10.0.15", "tunnel", 1, 0, 0, "ipip"],
    ]);
    const web = snapshot.services[0];
    expect(web?.counters?.conns).toBe(43n);
    expect(web?.realservers[2]).toMatchObject({ address: "10.10.0.13", activeConns: 4, inactiveConns: 13, persistentConns: 4 });
    expect(web?.rates).toBeNull();
    expect(snapshot.ipvsadm?.ipvsadm).toBe("1.31");
    expect(snapshot.timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(snapshot.sysctls.expire_quiescent_template).toEqual([0]);
    expect(snapshot.sysctls.sync_threshold).toEqual([3, 50]);
    // 15 active + 138 inactive + 11 persistence templates, per the --persistent-conn listing
    expect(snapshot.connectionCount).toBe(15 + 138 + 11);
    expect(snapshot.version).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshot).toMatchObject({ directorId: "lab1", clusterId: "lab", takenAt: 1_000_000 });
  });

  it("keeps the version and timeouts of an earlier poll when this one did not read them", () => {
    const first = parseSnapshot(pollOutput(true), ctx);
    const later = parseSnapshot(pollOutput(false), { ...ctx, cached: { ipvsadm: first.ipvsadm, timeouts: first.timeouts } });
    expect(later.ipvsadm).toEqual(first.ipvsadm);
    expect(later.timeouts).toEqual(first.timeouts);
    expect(later.version).toBe(first.version);
    expect(parseSnapshot(pollOutput(false), ctx).ipvsadm).toBeNull();
  });

  it("takes forward methods from /proc/net/ip_vs when it skipped --tun-info", () => {
    const proc = fixture("proc-net-ip_vs.txt").replace("Tunnel ", "Route  ");
    const snapshot = parseSnapshot(pollOutput(true, { tunInfo: false, proc }), ctx);
    const https = snapshot.services[2];
    expect(https?.realservers.map((r) => r.forward)).toEqual(["masq", "route", "route"]);
    expect(snapshot.services[0]?.realservers.map((r) => r.forward)).toEqual(["masq", "masq", "masq"]);
    expect(snapshot.sysctls.sync_threshold).toEqual([3, 50]);
  });

  it("asks to read again with --tun-info when a tunnel member appeared", () => {
    try {
      parseSnapshot(pollOutput(true, { tunInfo: false }), ctx);
      expect.unreachable();
    } catch (e) {
      expect(isConsoleError(e, "PARSE_ERROR")).toBe(true);
      if (isConsoleError(e)) expect(e.details).toMatchObject({ source: "merge", reason: "tunnel-info" });
    }
  });

  it("reports a failed ipvsadm as COMMAND_FAILED with its output", () => {
    const output = sections(
      {
        files: "",
        persistent: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?",
      },
      { persistent: 2 },
    );
    try {
      parseSnapshot(output, ctx);
      expect.unreachable();
    } catch (e) {
      expect(isConsoleError(e, "COMMAND_FAILED")).toBe(true);
      if (!isConsoleError(e)) throw e;
      expect(e.message).toBe("ipvsadm -Ln --persistent-conn failed on lab1 with exit code 2: Can't initialize ipvs: Protocol not available");
      expect(e.details).toMatchObject({ directorId: "lab1", exitCode: 2, argv: ["ipvsadm", "-Ln", "--persistent-conn"] });
    }
  });

  it("refuses views that disagree (a change between two reads)", () => {
    const proc = fixture("proc-net-ip_vs.txt").replace("  -> 0A0A000D:0050      Masq    1      4          13        \n", "");
    const output = pollOutput(true, { tunInfo: false, proc: proc.replace("Tunnel ", "Route  ") });
    try {
      parseSnapshot(output, ctx);
      expect.unreachable();
    } catch (e) {
      expect(isConsoleError(e, "PARSE_ERROR")).toBe(true);
      if (isConsoleError(e)) expect(e.details.source).toBe("merge");
    }
  });

  it("splits sections and notices one cut short", () => {
    const parts = splitSections(`${MARK} a\nx\ny\n${MARK} exit 0\n${MARK} b\nz\n`);
    expect(parts.get("a")).toEqual({ text: "x\ny", exitCode: 0 });
    expect(parts.get("b")).toEqual({ text: "z\n", exitCode: null });
  });
});

describe("rulesVersion", () => {
  const base = parseSnapshot(pollOutput(true), ctx).services;

  it("ignores counters, connections and the order of services and realservers", () => {
    const shuffled: ServiceState[] = [...base].reverse().map((s) => ({
      ...s,
      counters: null,
      realservers: [...s.realservers].reverse().map((r) => ({ ...r, activeConns: 99, counters: null })),
    }));
    expect(rulesVersion(shuffled)).toBe(rulesVersion(base));
  });

  it("changes with a weight, a threshold, a scheduler or a member", () => {
    const edit = (f: (s: ServiceState[]) => void) => {
      const copy = structuredClone(base);
      f(copy);
      return rulesVersion(copy);
    };
    const v = rulesVersion(base);
    expect(edit((s) => void (s[0]!.realservers[0]!.weight = 0))).not.toBe(v);
    expect(edit((s) => void (s[0]!.realservers[0]!.upperThreshold = 10))).not.toBe(v);
    expect(edit((s) => void (s[1]!.scheduler = "wlc"))).not.toBe(v);
    expect(edit((s) => void s[1]!.realservers.pop())).not.toBe(v);
  });
});

describe("withRates", () => {
  it("derives per-second rates from the counters of the previous poll", () => {
    const now = parseSnapshot(pollOutput(true), ctx).services;
    const before = structuredClone(now).map((s) => ({
      ...s,
      counters: s.counters && { ...s.counters, conns: s.counters.conns - 10n, inBytes: s.counters.inBytes - 2000n },
    }));
    const rated = withRates(now, 3000, { services: before, takenAt: 1000 });
    expect(rated[0]?.rates).toEqual({ cps: 5, inPps: 0, outPps: 0, inBps: 1000, outBps: 0 });
    expect(rated[0]?.realservers[0]?.rates).toEqual({ cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
  });

  it("gives no rate when a counter went down (the service was re-created)", () => {
    const now = parseSnapshot(pollOutput(true), ctx).services;
    const before = structuredClone(now).map((s) => ({ ...s, counters: s.counters && { ...s.counters, conns: s.counters.conns + 1n } }));
    expect(withRates(now, 3000, { services: before, takenAt: 1000 })[0]?.rates).toBeNull();
  });
});

describe("SNAPSHOT_SCRIPT", () => {
  it("runs under a POSIX sh, starting ipvsadm only for what it needs", () => {
    // A fake ipvsadm that logs its argv. The host has no IPVS: grep finds no /proc/net/ip_vs
    // and says nothing, and the rest still runs and prints its markers.
    const dir = mkdtempSync(join(tmpdir(), "lvs-script-"));
    mkdirSync(join(dir, "bin"));
    const log = join(dir, "calls");
    writeFileSync(join(dir, "bin", "ipvsadm"), `#!/bin/sh\necho "$*" >> '${log}'\necho "ipvsadm $*"\n`);
    chmodSync(join(dir, "bin", "ipvsadm"), 0o755);
    const env = { ...process.env, PATH: `${join(dir, "bin")}:/usr/bin:/bin`, LC_ALL: "C" };
    const run = (full: string, tunnels: string) => {
      writeFileSync(log, "");
      const out = execFileSync("/bin/sh", ["-c", SNAPSHOT_SCRIPT, "sh", full, tunnels], { env, encoding: "utf8" });
      return { calls: readFileSync(log, "utf8").trim().split("\n"), sections: [...splitSections(out).keys()] };
    };
    expect(run("0", "0")).toEqual({
      calls: ["-Ln --persistent-conn", "-Ln --thresholds", "-Ln --exact --stats"],
      sections: ["files", "persistent", "thresholds", "stats"],
    });
    expect(run("0", "1").calls).toEqual(["-Ln --persistent-conn", "-Ln --thresholds", "-Ln --exact --stats", "-Ln --tun-info"]);
    expect(run("1", "1").sections).toEqual(["files", "persistent", "thresholds", "stats", "tuninfo", "version", "timeout"]);
  });
});
