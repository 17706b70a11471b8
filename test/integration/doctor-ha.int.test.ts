/**
 * The doctor on the keepalived pair, with the faults made through the HA lab
 * (`lab.sh fault --name N --director a|b ...`): a VIP absent on the BACKUP is how a pair
 * works, on the MASTER it is an error; a fault on director b is found on b with its subject,
 * not on a, and is gone once off. Prints how long each finding took and a run's cost.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { Finding, FindingCode } from "@/server/ipvs/doctor";
import { ensureHaLab, labExec, stopLab } from "../../lab/harness";
import { operatorCaller, setUpConsole, tearDownConsole } from "./console-harness";
import { directorConfigOf } from "./lab-director";

const HA = process.env.LVS_HA_LAB_NAME ?? "ha";
const HA_PORT = Number(process.env.LVS_HA_LAB_PORT ?? 2230);
const LAB_SH = new URL("../../lab/lab.sh", import.meta.url).pathname;
const caller = operatorCaller();
const measured: string[] = [];
let directors: DirectorConfig[] = [];
let startedByUs = false;

/** `bash lab/lab.sh fault --name HA --director a|b ARGS...`: the lab's own way in. */
async function fault(director: "a" | "b", ...args: string[]): Promise<string> {
  const r = await promisify(execFile)(
    "bash",
    [LAB_SH, "fault", "--name", HA, "--director", director, ...args],
    { timeout: 60_000 },
  );
  return r.stdout;
}

async function allOff(): Promise<void> {
  for (const d of ["a", "b"] as const)
    for (const f of ["forward", "redirects", "vip-missing"]) await fault(d, f, "off");
}

const idOf = (d: "a" | "b") => `${HA}-${d}`;
const check = (d: "a" | "b") => caller.doctor.check({ directorId: idOf(d) });
const find = (findings: Finding[], code: FindingCode, subject: string) =>
  findings.find((f) => f.code === code && f.subject.name === subject);

/** Checks `d` until `want` holds; returns the findings and the ms it took. */
async function until(d: "a" | "b", want: (f: Finding[]) => boolean, timeoutMs = 30_000) {
  const t0 = Date.now();
  for (let checks = 1; ; checks++) {
    const r = await check(d);
    if (want(r.findings)) return { findings: r.findings, ms: Date.now() - t0, checks };
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `${idOf(d)}: not within ${timeoutMs} ms: ${r.findings.map((f) => `${f.code} ${f.subject.name}`).join(", ")}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  const ha = await ensureHaLab({ name: HA, port: HA_PORT });
  startedByUs = ha.startedByUs;
  directors = ha.directors.map((d) => directorConfigOf(d, { clusterId: "ha" }));
  setUpConsole([{ id: "ha", directors }]);
  await allOff();
}, 300_000);

afterAll(async () => {
  try {
    await allOff();
  } finally {
    tearDownConsole();
    console.log(`doctor timings (HA lab ${HA}):\n  ${measured.join("\n  ")}`);
    if (startedByUs) await stopLab(HA);
  }
}, 120_000);

describe("the doctor on a keepalived pair", () => {
  it("a VIP missing: an error on the MASTER, nothing on the BACKUP; gone when off", async () => {
    // The pair as the lab leaves it: a MASTER, b BACKUP (a split brain would fail below).
    expect((await labExec(idOf("a"), "lab-keepalived status")).stdout).toContain("VI_PUB MASTER");
    expect((await labExec(idOf("b"), "lab-keepalived status")).stdout).toContain("VI_PUB BACKUP");
    const t0 = Date.now();
    await fault("a", "vip-missing", "on");
    await fault("b", "vip-missing", "on");
    const tFault = Date.now();
    const onA = await until("a", (f) => find(f, "vip-missing", "203.0.113.20") !== undefined);
    const vip = find(onA.findings, "vip-missing", "203.0.113.20");
    expect(vip?.severity).toBe("error");
    expect(vip?.message).toContain("VRRP MASTER");
    expect(vip?.evidence).toContain("keepalived VRRP state: MASTER");
    // The VIPs the MASTER holds are fine.
    expect(onA.findings.filter((f) => f.code === "vip-missing")).toHaveLength(1);
    measured.push(
      `vip-missing on the MASTER: shows ${Date.now() - t0} ms after lab.sh fault on (fault ${tFault - t0} ms, then ${onA.ms} ms / ${onA.checks} check(s))`,
    );

    // The BACKUP holds no VIP at all, the stray one included: how a pair works.
    const onB = await check("b");
    expect(
      onB.findings
        .filter((f) => f.code === "vip-missing")
        .map((f) => `${f.severity} ${f.subject.name}: ${f.message}`),
    ).toEqual([]);
    expect(
      (await labExec(idOf("b"), "ip -o addr show br-pub")).stdout.includes("203.0.113.10"),
    ).toBe(false);

    await fault("a", "vip-missing", "off");
    await fault("b", "vip-missing", "off");
    const off = await until("a", (f) => !f.some((x) => x.code === "vip-missing"), 10_000);
    measured.push(`vip-missing gone ${off.ms} ms after off`);
  }, 120_000);

  it.each([
    ["forward", "ip-forward-off", "director"],
    ["redirects", "send-redirects-on", "director"],
  ] as const)(
    "lab.sh fault --director b %s: found on b with its subject, not on a; gone when off",
    async (name, code, subject) => {
      const t0 = Date.now();
      await fault("b", name, "on");
      const tFault = Date.now();
      const on = await until("b", (f) => find(f, code, subject) !== undefined);
      const finding = find(on.findings, code, subject);
      expect(finding?.severity).toBe(code === "ip-forward-off" ? "error" : "warn");
      expect(finding?.evidence.length).toBeGreaterThan(0);
      expect(finding?.fix).toMatchObject({ where: "director" });
      measured.push(
        `${code} on the BACKUP: shows ${Date.now() - t0} ms after lab.sh fault on (fault ${tFault - t0} ms, then ${on.ms} ms / ${on.checks} check(s))`,
      );
      expect(find((await check("a")).findings, code, subject)).toBeUndefined();

      await fault("b", name, "off");
      const off = await until("b", (f) => !f.some((x) => x.code === code), 10_000);
      measured.push(`${code} gone ${off.ms} ms after off`);
      expect(await fault("b", "status")).not.toMatch(/ on$/m);
    },
    120_000,
  );

  it("costs one SSH command per run on each director: time and processes", async () => {
    for (const d of ["a", "b"] as const) {
      const lastPid = async () =>
        Number((await labExec(idOf(d), "cut -d' ' -f5 /proc/loadavg")).stdout.trim());
      // What one measurement itself forks (an ssh session, a shell, cut).
      const a = await lastPid();
      const b = await lastPid();
      const runs: number[] = [];
      const forks: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = await lastPid();
        const r = await check(d);
        const after = await lastPid();
        runs.push(r.elapsedMs);
        forks.push(after - before - (b - a));
      }
      const median = (xs: number[]) =>
        [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
      measured.push(
        `one doctor run on ${idOf(d)}: median ${median(runs)} ms (${runs.join(", ")}), about ${median(forks)} processes (${forks.join(", ")})`,
      );
      expect(median(runs)).toBeLessThan(5000);
      expect(median(forks)).toBeGreaterThan(0);
    }
  }, 120_000);
});
