/**
 * The doctor against the real lab director: every lab-fault turned on is found with its
 * code and subject, turned off it goes away; the director fixes go through preview, version
 * check, read-back and audit, and still hold after `sysctl --system`. Prints how long each
 * finding took to show up and what a doctor run costs on the director.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { Finding, FindingCode } from "@/server/ipvs/doctor";
import { lastDoctor } from "@/server/live/doctor";
import { watchDirector } from "@/server/live/registry";
import { getConfig } from "@/server/config";
import { DEFAULT_FULL_READ_EVERY } from "@/server/config/schema";
import { labExec } from "../../lab/harness";
import {
  consoleErrorOf,
  onLab,
  operatorCaller,
  setUpConsole,
  tearDownConsole,
} from "./console-harness";
import { labDirector, labName } from "./lab-director";

let director: DirectorConfig;
const caller = operatorCaller();
const FAULTS = ["gateway rs2", "forward", "redirects", "client-in-rs-subnet", "rs-down"];
const HEAL =
  "lab-traffic probe --vip 203.0.113.10:8080 --from 203.0.113.105 --count 6 >/dev/null; lab-traffic probe --vip 203.0.113.10:80 --all-clients >/dev/null; true";
const measured: string[] = [];

async function allOff(): Promise<void> {
  await onLab(
    labName(),
    `${FAULTS.map((f) => `lab-fault ${f} off`).join("; ")}; rm -f /etc/sysctl.d/99-lvs-console-*.conf`,
  );
}

beforeAll(async () => {
  director = await labDirector();
  setUpConsole([{ id: "lab", directors: [director] }]);
  await allOff();
});

afterAll(async () => {
  try {
    await allOff();
  } finally {
    tearDownConsole();
    console.log(`doctor timings (lab ${labName()}):\n  ${measured.join("\n  ")}`);
  }
});

const check = () => caller.doctor.check({ directorId: director.id });
const has = (findings: Finding[], code: FindingCode, subject: string) =>
  findings.some((f) => f.code === code && f.subject.name === subject);

/** Checks until `want(findings)` holds; returns the findings and the ms it took. */
async function until(
  want: (f: Finding[]) => boolean,
  timeoutMs: number,
): Promise<{ findings: Finding[]; ms: number; checks: number }> {
  const t0 = Date.now();
  let checks = 0;
  for (;;) {
    const r = await check();
    checks++;
    if (want(r.findings)) return { findings: r.findings, ms: Date.now() - t0, checks };
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `not within ${timeoutMs} ms: ${r.findings.map((f) => `${f.code} ${f.subject.name}`).join(", ")}`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe("the doctor on the lab", () => {
  it("finds nothing wrong but the lab's mixed members when every fault is off", async () => {
    await onLab(labName(), HEAL);
    const r = await check();
    expect(r.findings.map((f) => `${f.code} ${f.subject.name}`).sort()).toEqual([
      "mixed-forwarding 10.10.0.14:443",
      "mixed-forwarding 10.10.0.15:443",
    ]);
    expect(r.at).toBeGreaterThan(Date.now() - 60_000);
  });

  it.each([
    // fault, traffic that shows it, code, subject, how long its evidence may linger once off
    [
      "gateway rs2",
      "lab-traffic probe --vip 203.0.113.10:8080 --from 203.0.113.101 --count 6",
      "replies-bypass-director",
      "10.10.0.12:80",
      10_000,
    ],
    ["forward", "", "ip-forward-off", "director", 5_000],
    ["redirects", "", "send-redirects-on", "director", 5_000],
    [
      "rs-down",
      "lab-traffic probe --vip 203.0.113.10:80 --all-clients",
      "realserver-down",
      "10.10.0.13:80",
      10_000,
    ],
    // the client's SYN_RECV entries stay until IPVS's 60 s SYN_RECV timeout
    [
      "client-in-rs-subnet",
      "lab-traffic probe --vip 203.0.113.10:8080 --from 10.10.0.200 --count 3",
      "client-in-realserver-subnet",
      "10.10.0.200",
      75_000,
    ],
  ] as const)(
    "lab-fault %s: found on, gone off",
    async (fault, traffic, code, subject, lingerMs) => {
      const t0 = Date.now();
      await onLab(
        labName(),
        `lab-fault ${fault} on${traffic ? `; ${traffic} >/dev/null; true` : ""}`,
      );
      const tFault = Date.now();
      const on = await until((f) => has(f, code, subject), 30_000);
      const finding = on.findings.find((f) => f.code === code && f.subject.name === subject);
      expect(finding?.message.length).toBeGreaterThan(80);
      expect(finding?.evidence.length).toBeGreaterThan(0);
      const t1 = Date.now();
      await onLab(labName(), `lab-fault ${fault} off; ${HEAL}`);
      const off = await until((f) => !f.some((x) => x.code === code), lingerMs);
      measured.push(
        `${code}: shows ${t1 - t0} ms after lab-fault on (fault+traffic ${tFault - t0} ms, then ${on.ms} ms / ${on.checks} check(s)); gone ${off.ms} ms after off+traffic`,
      );
      expect(await onLab(labName(), "lab-fault status")).not.toMatch(/ on$/m);
    },
    150_000,
  );

  it("the poller's full reads run the doctor in the background and keep its report", async () => {
    const off = watchDirector(director.id, () => undefined);
    try {
      await onLab(labName(), "lab-fault forward on");
      const t0 = Date.now();
      const fullReadEvery = getConfig().fullReadEvery ?? DEFAULT_FULL_READ_EVERY;
      const every = getConfig().pollIntervalMs * fullReadEvery;
      for (;;) {
        const report = lastDoctor(director.id).report;
        if (report && report.at > t0 && report.findings.some((f) => f.code === "ip-forward-off"))
          break;
        if (Date.now() - t0 > every + 15_000)
          throw new Error(`no doctor report within ${every + 15_000} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
      measured.push(
        `ip-forward-off through the poller: ${Date.now() - t0} ms (full read every ${fullReadEvery} polls of ${getConfig().pollIntervalMs} ms)`,
      );
    } finally {
      off();
      await onLab(labName(), "lab-fault forward off");
    }
  }, 60_000);

  it("lab-fault masquerade says the lab's kernel cannot do it", async () => {
    const r = await labExec(labName(), "lab-fault masquerade on");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("not supported by this lab's kernel");
    expect(await onLab(labName(), "lab-fault status")).toContain("masquerade off");
  });

  it.each([
    ["forward", "ip-forward-off", "ip-forward", ["net.ipv4.ip_forward=1"], "net.ipv4.ip_forward"],
    [
      "redirects",
      "send-redirects-on",
      "send-redirects",
      [
        "net.ipv4.conf.all.send_redirects=0",
        "net.ipv4.conf.default.send_redirects=0",
        "net.ipv4.conf.br-int.send_redirects=0",
      ],
      "net.ipv4.conf.all.send_redirects",
    ],
  ] as const)(
    "lab-fault %s: the console's fix clears it and lasts past sysctl --system",
    async (fault, code, id, args, key) => {
      await onLab(labName(), `lab-fault ${fault} on`);
      const preview = await caller.doctor.previewFix({ directorId: director.id, code });
      expect(preview.steps[0]?.argv).toEqual(["sysctl", "-w", ...args]);
      expect(preview.file.path).toBe(`/etc/sysctl.d/99-lvs-console-${id}.conf`);
      expect(preview.steps[1]?.command).toContain(preview.file.path);
      const result = await caller.doctor.commitFix({
        directorId: director.id,
        code,
        expectedVersion: preview.version,
      });
      expect(result.error).toBeNull();
      expect(result).toMatchObject({ ok: true, verified: true });
      expect(result.report?.findings.some((f) => f.code === code)).toBe(false);
      expect(await onLab(labName(), `cat ${preview.file.path}`)).toBe(preview.file.content);
      const audit = await caller.audit.get({ id: result.auditId });
      expect(audit).toMatchObject({ action: "doctor.fix", result: "ok", directors: [director.id] });
      // what a reboot does: every sysctl.d file read again, in order
      await onLab(labName(), "sysctl --system >/dev/null 2>&1; true");
      expect((await check()).findings.some((f) => f.code === code)).toBe(false);
      expect((await onLab(labName(), `sysctl -n ${key}`)).trim()).toBe(
        code === "ip-forward-off" ? "1" : "0",
      );
      await onLab(labName(), `rm -f ${preview.file.path}; lab-fault ${fault} off`);
    },
    60_000,
  );

  it("a fix planned on values that changed since is a CONFLICT and changes nothing", async () => {
    await onLab(labName(), "lab-fault redirects on");
    const preview = await caller.doctor.previewFix({
      directorId: director.id,
      code: "send-redirects-on",
    });
    await onLab(labName(), "echo 1 > /proc/sys/net/ipv4/conf/br-pub/send_redirects");
    const e = await consoleErrorOf(
      caller.doctor.commitFix({
        directorId: director.id,
        code: "send-redirects-on",
        expectedVersion: preview.version,
      }),
    );
    expect(e.code).toBe("CONFLICT");
    expect(
      await onLab(labName(), "cat /proc/sys/net/ipv4/conf/all/send_redirects; ls /etc/sysctl.d"),
    ).toBe("1\n");
    await onLab(
      labName(),
      "echo 0 > /proc/sys/net/ipv4/conf/br-pub/send_redirects; lab-fault redirects off",
    );
  });

  it("costs one SSH command per run: time and processes on the director", async () => {
    const lastPid = async () =>
      Number((await onLab(labName(), "cut -d' ' -f5 /proc/loadavg")).trim());
    // what one measurement itself forks (an ssh session, a shell, cut)
    const a = await lastPid();
    const b = await lastPid();
    const runs: number[] = [];
    const forks: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = await lastPid();
      const r = await check();
      const after = await lastPid();
      runs.push(r.elapsedMs);
      forks.push(after - before - (b - a));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    measured.push(
      `one doctor run: median ${median(runs)} ms (${runs.join(", ")}), about ${median(forks)} processes on the director (${forks.join(", ")})`,
    );
    expect(median(runs)).toBeLessThan(5000);
    expect(median(forks)).toBeGreaterThan(0);
  }, 60_000);
});
