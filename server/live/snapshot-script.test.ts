import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isConsoleError } from "@/server/errors";
import { formatServiceKey, type ServiceState } from "@/server/ipvs/model";
import { scriptCommandLine } from "@/server/ssh/quote";
import { parseSnapshot } from "./snapshot-parse";
import { withRates } from "./snapshot-rates";
import { snapshotArgs, SNAPSHOT_SCRIPT, splitSections, type ReadRequest } from "./snapshot-script";
import { rulesFingerprint, rulesVersion } from "@/server/ipvs/rules";
import { fixture, MARK, pollOutput, sections } from "@/test/support/snapshot-output";

const ctx = {
  directorId: "lab1",
  clusterId: "lab",
  takenAt: 1_000_000,
  previous: null,
  cached: null,
};

describe("parseSnapshot", () => {
  it("merges one poll's sections into every service of the director", () => {
    const snapshot = parseSnapshot(pollOutput("full"), ctx);
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
    expect(
      https?.realservers.map((r) => [
        r.address,
        r.forward,
        r.weight,
        r.upperThreshold,
        r.lowerThreshold,
        r.tunnel?.type,
      ]),
    ).toEqual([
      ["10.10.0.13", "masq", 2, 100, 50, undefined],
      ["10.10.0.14", "route", 1, 0, 0, undefined],
      ["10.10.0.15", "tunnel", 1, 0, 0, "ipip"],
    ]);
    const web = snapshot.services[0];
    expect(web?.counters?.conns).toBe(43n);
    expect(web?.realservers[2]).toMatchObject({
      address: "10.10.0.13",
      activeConns: 4,
      inactiveConns: 13,
      persistentConns: 4,
    });
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
    const first = parseSnapshot(pollOutput("full"), ctx);
    const later = parseSnapshot(pollOutput("full", { meta: false }), {
      ...ctx,
      cached: { ipvsadm: first.ipvsadm, timeouts: first.timeouts },
    });
    expect(later.ipvsadm).toEqual(first.ipvsadm);
    expect(later.timeouts).toEqual(first.timeouts);
    expect(later.version).toBe(first.version);
    expect(parseSnapshot(pollOutput("full", { meta: false }), ctx).ipvsadm).toBeNull();
  });

  it("takes forward methods from /proc/net/ip_vs when it skipped --tun-info", () => {
    const proc = fixture("proc-net-ip_vs.txt").replace("Tunnel ", "Route  ");
    const snapshot = parseSnapshot(pollOutput("full", { tunInfo: false, proc }), ctx);
    const https = snapshot.services[2];
    expect(https?.realservers.map((r) => r.forward)).toEqual(["masq", "route", "route"]);
    expect(snapshot.services[0]?.realservers.map((r) => r.forward)).toEqual([
      "masq",
      "masq",
      "masq",
    ]);
    expect(snapshot.sysctls.sync_threshold).toEqual([3, 50]);
  });

  it("asks to read again with --tun-info when a tunnel member appeared", () => {
    try {
      parseSnapshot(pollOutput("full", { tunInfo: false }), ctx);
      expect.unreachable();
    } catch (e) {
      expect(isConsoleError(e, "PARSE_ERROR")).toBe(true);
      if (isConsoleError(e))
        expect(e.details).toMatchObject({ source: "merge", reason: "tunnel-info" });
    }
  });

  it("reports a failed ipvsadm as COMMAND_FAILED with its output", () => {
    const output = sections(
      {
        files: "",
        persistent:
          "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?",
      },
      { persistent: 2 },
    );
    try {
      parseSnapshot(output, ctx);
      expect.unreachable();
    } catch (e) {
      expect(isConsoleError(e, "COMMAND_FAILED")).toBe(true);
      if (!isConsoleError(e)) throw e;
      expect(e.message).toBe(
        "ipvsadm -Ln --persistent-conn failed on lab1 with exit code 2: Can't initialize ipvs: Protocol not available",
      );
      expect(e.details).toMatchObject({
        directorId: "lab1",
        exitCode: 2,
        argv: ["ipvsadm", "-Ln", "--persistent-conn"],
      });
    }
  });

  it("refuses views that disagree (a change between two reads)", () => {
    const proc = fixture("proc-net-ip_vs.txt").replace(
      "  -> 0A0A000D:0050      Masq    1      4          13        \n",
      "",
    );
    const output = pollOutput("full", { tunInfo: false, proc: proc.replace("Tunnel ", "Route  ") });
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

describe("parseSnapshot of a light read", () => {
  const full = parseSnapshot(pollOutput("full"), ctx);
  const base = { services: full.services, version: full.version, sysctls: full.sysctls };
  const lightCtx = { ...ctx, takenAt: 1_002_000, cached: full, base };

  it("gives the very version and rules of a full read of the same director", () => {
    const light = parseSnapshot(pollOutput("light"), lightCtx);
    expect(light.version).toBe(full.version);
    expect(light.services).toEqual(full.services);
    const https = light.services[2];
    expect(
      https?.realservers.map((r) => [r.upperThreshold, r.lowerThreshold, r.tunnel?.type]),
    ).toEqual([
      [100, 50, undefined],
      [0, 0, undefined],
      [0, 0, "ipip"],
    ]);
    expect(light).toMatchObject({
      ipvsadm: full.ipvsadm,
      timeouts: full.timeouts,
      sysctls: full.sysctls,
      connectionCount: full.connectionCount,
    });
  });

  it("asks for a full read when a rule it sees changed since the last full read", () => {
    const persistent = fixture("ipvsadm-Ln--persistent-conn.txt").replace(
      "  -> 10.10.0.11:80                3         0           1          22",
      "  -> 10.10.0.11:80                4         0           1          22",
    );
    const fewer = structuredClone(full.services);
    fewer[0]?.realservers.pop();
    for (const [output, context] of [
      [pollOutput("light", { persistent }), lightCtx],
      [
        pollOutput("light"),
        {
          ...lightCtx,
          base: { services: fewer, version: rulesVersion(fewer), sysctls: full.sysctls },
        },
      ],
    ] as const) {
      try {
        parseSnapshot(output, context);
        expect.unreachable();
      } catch (e) {
        expect(isConsoleError(e, "PARSE_ERROR")).toBe(true);
        if (isConsoleError(e))
          expect(e.details).toMatchObject({ source: "merge", reason: "rules-changed" });
      }
    }
  });

  it("keeps the thresholds of the last full read: an edit of only those shows at the next full read", () => {
    const edited = structuredClone(full.services);
    const member = edited[0]?.realservers[0];
    if (member) member.upperThreshold = 500;
    const light = parseSnapshot(pollOutput("light"), {
      ...lightCtx,
      base: {
        services: edited,
        version: rulesVersion(edited, full.sysctls),
        sysctls: full.sysctls,
      },
    });
    expect(light.services[0]?.realservers[0]?.upperThreshold).toBe(500);
    expect(light.version).toBe(rulesVersion(edited, full.sysctls));
    expect(parseSnapshot(pollOutput("full"), ctx).services[0]?.realservers[0]?.upperThreshold).toBe(
      0,
    );
  });

  it("needs an earlier full read", () => {
    expect(() => parseSnapshot(pollOutput("light"), ctx)).toThrow(/needs an earlier full read/);
  });
});

describe("rulesVersion", () => {
  const base = parseSnapshot(pollOutput("full"), ctx).services;

  it("ignores counters, connections and the order of services and realservers", () => {
    const shuffled: ServiceState[] = [...base].reverse().map((s) => ({
      ...s,
      counters: null,
      realservers: [...s.realservers]
        .reverse()
        .map((r) => ({ ...r, activeConns: 99, counters: null })),
    }));
    expect(rulesVersion(shuffled)).toBe(rulesVersion(base));
  });

  /** `measure` of a copy of the captured rules after `f` changed it. */
  const afterEdit =
    (measure: (s: ServiceState[]) => string) =>
    (f: (s: ServiceState[]) => void): string => {
      const copy = structuredClone(base);
      f(copy);
      return measure(copy);
    };

  it("changes with a weight, a threshold, a scheduler or a member", () => {
    const edit = afterEdit((s) => rulesVersion(s));
    const v = rulesVersion(base);
    expect(edit((s) => void (s[0]!.realservers[0]!.weight = 0))).not.toBe(v);
    expect(edit((s) => void (s[0]!.realservers[0]!.upperThreshold = 10))).not.toBe(v);
    expect(edit((s) => void (s[1]!.scheduler = "wlc"))).not.toBe(v);
    expect(edit((s) => void s[1]!.realservers.pop())).not.toBe(v);
  });

  it("has a fingerprint (the light read's shortcut) that ignores counters but no rule", () => {
    const counted = base.map((s) => ({
      ...s,
      counters: null,
      realservers: s.realservers.map((r) => ({ ...r, activeConns: 99, counters: null })),
    }));
    expect(rulesFingerprint(counted)).toBe(rulesFingerprint(base));
    const fingerprint = afterEdit(rulesFingerprint);
    const f = rulesFingerprint(base);
    expect(fingerprint((s) => void (s[0]!.realservers[0]!.weight = 0))).not.toBe(f);
    expect(fingerprint((s) => void (s[0]!.realservers[0]!.lowerThreshold = 10))).not.toBe(f);
    expect(fingerprint((s) => void (s[0]!.persistence = null))).not.toBe(f);
    expect(fingerprint((s) => void s[1]!.schedFlags.push("sh-port"))).not.toBe(f);
    expect(fingerprint((s) => void (s[2]!.realservers[2]!.tunnel = null))).not.toBe(f);
  });
});

describe("withRates", () => {
  it("derives per-second rates from the counters of the previous poll", () => {
    const now = parseSnapshot(pollOutput("full"), ctx).services;
    const before = structuredClone(now).map((s) => ({
      ...s,
      counters: s.counters && {
        ...s.counters,
        conns: s.counters.conns - 10n,
        inBytes: s.counters.inBytes - 2000n,
      },
    }));
    const rated = withRates(now, 3000, { services: before, takenAt: 1000 });
    expect(rated[0]?.rates).toEqual({ cps: 5, inPps: 0, outPps: 0, inBps: 1000, outBps: 0 });
    expect(rated[0]?.realservers[0]?.rates).toEqual({
      cps: 0,
      inPps: 0,
      outPps: 0,
      inBps: 0,
      outBps: 0,
    });
  });

  it("gives no rate when a counter went down (the service was re-created)", () => {
    const now = parseSnapshot(pollOutput("full"), ctx).services;
    const before = structuredClone(now).map((s) => ({
      ...s,
      counters: s.counters && { ...s.counters, conns: s.counters.conns + 1n },
    }));
    expect(withRates(now, 3000, { services: before, takenAt: 1000 })[0]?.rates).toBeNull();
  });
});

describe("SNAPSHOT_SCRIPT", () => {
  it("runs in a POSIX login shell with LC_ALL=C, starting only the processes its read needs", () => {
    // Fakes that log their start (ipvsadm also its LC_ALL). The host has no IPVS: grep finds
    // no /proc/net/ip_vs and says nothing, and the rest still runs and prints its markers.
    const dir = mkdtempSync(join(tmpdir(), "lvs-script-"));
    mkdirSync(join(dir, "bin"));
    const log = join(dir, "calls");
    const fake = (name: string, body: string) => {
      writeFileSync(join(dir, "bin", name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, "bin", name), 0o755);
    };
    fake("ipvsadm", `echo "ipvsadm LC_ALL=$LC_ALL $*" >> '${log}'\necho "ipvsadm $*"`);
    fake("env", `echo env >> '${log}'\nexec /usr/bin/env "$@"`);
    fake("sh", `echo sh >> '${log}'\nexec /bin/sh "$@"`);
    const { LC_ALL: _unset, ...inherited } = process.env;
    const env = { ...inherited, PATH: `${join(dir, "bin")}:/usr/bin:/bin`, LANG: "C.UTF-8" };
    const run = (request: ReadRequest) => {
      writeFileSync(log, "");
      // What sshd does with the command line: hand it to the login shell's -c.
      const out = execFileSync(
        "/bin/sh",
        ["-c", scriptCommandLine(SNAPSHOT_SCRIPT, snapshotArgs(request))],
        { env, encoding: "utf8" },
      );
      return {
        calls: readFileSync(log, "utf8").trim().split("\n"),
        sections: [...splitSections(out).keys()],
      };
    };
    expect(run({ kind: "light", tunnels: true, meta: true })).toEqual({
      calls: ["ipvsadm LC_ALL=C -Ln --persistent-conn", "ipvsadm LC_ALL=C -Ln --exact --stats"],
      sections: ["persistent", "stats"],
    });
    expect(run({ kind: "full", tunnels: false, meta: false }).calls).toEqual([
      "ipvsadm LC_ALL=C -Ln --persistent-conn",
      "ipvsadm LC_ALL=C -Ln --exact --stats",
      "ipvsadm LC_ALL=C -Ln --thresholds",
    ]);
    expect(run({ kind: "full", tunnels: true, meta: true }).sections).toEqual([
      "persistent",
      "stats",
      "files",
      "thresholds",
      "tuninfo",
      "version",
      "timeout",
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});
