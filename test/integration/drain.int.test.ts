/**
 * A drain on a real director with persistent clients, end to end: preflight warning and its
 * sysctl fix, weight 0 everywhere the realserver serves (forwarding and thresholds kept),
 * new clients elsewhere, the live progress reaching 0, and the undrain; and a drain whose
 * weights someone put back by hand, finished by an undrain or read as restored.
 *
 * Runs on a lab of its own (default "h5d" on 127.0.0.1:2242, started and stopped here):
 * the drain takes minutes (persistence templates and TIME_WAIT entries must expire) and
 * other engineers' tests on the shared lab would both disturb it and be disturbed by it.
 */
import { isTrackedEnvelope } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { ChangeInput } from "@/server/ipvs/change";
import type { DrainProgress } from "@/server/directors/drain-progress";
import { getDrain } from "@/server/db/drains";
import { readDrainProgress } from "@/server/directors/drain-watch";
import { ensureLab, stopLab } from "../../lab/harness";
import { directorConfigOf } from "./lab-director";
import {
  consoleErrorOf,
  onLab,
  operatorCaller,
  restoreRules,
  setUpConsole,
  tearDownConsole,
} from "./console-harness";

const LAB = process.env.LVS_H5_DRAIN_LAB ?? "h5d";
const PORT = Number(process.env.LVS_H5_DRAIN_PORT ?? 2242);
const DRAIN_BUDGET_MS = 480_000;

let director: DirectorConfig;
let startedByUs = false;
const caller = operatorCaller();
const web = { kind: "tcp", address: "203.0.113.10", port: 80 } as const;
const shortPersistent = { kind: "tcp", address: "203.0.113.11", port: 80 } as const;
const rs1 = { address: "10.10.0.11", port: 80 };

beforeAll(async () => {
  const lab = await ensureLab({ name: LAB, port: PORT });
  startedByUs = lab.startedByUs;
  director = directorConfigOf(lab.director, { id: "drain-lab", clusterId: "drain" });
  // A lab left running by an earlier run may still hold this test's service: start clean.
  await onLab(
    LAB,
    "lab-traffic stop >/dev/null; sysctl -qw net.ipv4.vs.expire_quiescent_template=0",
  );
  await restoreRules(LAB);
  setUpConsole([{ id: "drain", directors: [director] }]);
});

afterAll(async () => {
  try {
    await onLab(
      LAB,
      "lab-traffic stop >/dev/null; sysctl -qw net.ipv4.vs.expire_quiescent_template=0",
    );
    await restoreRules(LAB);
  } finally {
    tearDownConsole();
    if (startedByUs) await stopLab(LAB);
  }
});

async function versions(): Promise<Record<string, string>> {
  return (
    await caller.changes.preview({
      clusterId: "drain",
      change: { kind: "setSysctl", setting: { name: "sloppy_tcp", value: 1 } },
    })
  ).versions;
}

async function apply(change: ChangeInput) {
  const result = await caller.changes.commit({
    clusterId: "drain",
    change,
    expectedVersions: await versions(),
  });
  if (!result.ok) throw new Error(`${change.kind} failed: ${JSON.stringify(result.error)}`);
  return result;
}

/** rs1's line in `-Sn` and its thresholds in `-Ln --thresholds`, for TCP 203.0.113.10:80. */
async function rs1Rule(): Promise<{ saved: string; thresholds: string }> {
  const out = await onLab(LAB, "ipvsadm -Sn; echo @@; ipvsadm -Ln --thresholds -t 203.0.113.10:80");
  const [saved = "", listed = ""] = out.split("@@\n");
  return {
    saved:
      saved.split("\n").find((l) => l.startsWith("-a -t 203.0.113.10:80 -r 10.10.0.11:80")) ?? "",
    thresholds:
      listed
        .split("\n")
        .find((l) => l.includes("10.10.0.11:80"))
        ?.trim()
        .split(/\s+/)
        .slice(2, 4)
        .join("/") ?? "",
  };
}

/** Which realservers answered new requests from every client. */
async function probe(vip: string): Promise<string[]> {
  const out = await onLab(LAB, `lab-traffic probe --vip ${vip} --all-clients`);
  return out
    .trim()
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "-");
}

describe("drain of 10.10.0.11:80 with persistent clients", () => {
  it(
    "warns about persistence, drains to 0 with the fix applied, sends new clients elsewhere and undrains",
    { timeout: DRAIN_BUDGET_MS + 120_000 },
    async () => {
      // Thresholds first, so the drain can be seen keeping them.
      await apply({
        kind: "editRealserver",
        service: web,
        realserver: { ...rs1, forward: "masq", weight: 1, upperThreshold: 100, lowerThreshold: 50 },
      });
      // A persistent service with a short timeout: its invalidated templates expire in seconds.
      await apply({
        kind: "addService",
        service: { key: shortPersistent, scheduler: "rr", persistence: { timeout: 15 } },
        realservers: ["10.10.0.11", "10.10.0.12", "10.10.0.13"].map((address) => ({
          address,
          port: 80,
          forward: "masq" as const,
          weight: 1,
        })),
      });

      const preview = await caller.drains.preview({ clusterId: "drain", realserver: rs1 });
      const persistence = preview.warnings.filter((w) => w.code === "persistence-keeps-clients");
      expect(persistence.map((w) => w.service)).toEqual(
        expect.arrayContaining([web, shortPersistent]),
      );
      expect(persistence[0]?.fix).toEqual({ name: "expire_quiescent_template", value: 1 });
      const steps = preview.perDirector[0]?.ok ? preview.perDirector[0].steps : [];
      // TCP :80, :8080, FWM 1 and the new service.
      expect(steps).toHaveLength(4);

      // Long-lived connections from several clients, some of them pinned to rs1.
      await onLab(
        LAB,
        "lab-traffic hold --vip 203.0.113.10:80 --count 10 --seconds 45 >/dev/null; lab-traffic hold --vip 203.0.113.11:80 --count 10 --seconds 45 >/dev/null",
      );
      const before = await probe("203.0.113.11:80");
      expect(before).toContain("rs1");

      const started = await caller.drains.start({
        clusterId: "drain",
        realserver: rs1,
        expectedVersions: preview.versions,
        setExpireQuiescentTemplate: persistence.some(
          (w) => w.fix?.name === "expire_quiescent_template",
        ),
      });
      const t0 = Date.now();
      expect(started).toMatchObject({ ok: true, result: "ok" });
      expect(started.results[0]?.steps.map((s) => s.argv.slice(0, 3))).toEqual([
        ["sysctl", "-w", "net.ipv4.vs.expire_quiescent_template=1"],
        ...Array.from({ length: 4 }, () => [
          "ipvsadm",
          "-e",
          expect.any(String) as unknown as string,
        ]),
      ]);
      expect(
        getDrain(started.drainId)
          ?.original.map((o) => o.weight)
          .sort(),
      ).toEqual([1, 1, 1, 3]);

      // Forwarding method and thresholds kept at weight 0.
      expect(await rs1Rule()).toEqual({
        saved: "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 0",
        thresholds: "100/50",
      });
      // New requests, even from clients pinned to rs1, go elsewhere.
      const during = [...(await probe("203.0.113.10:80")), ...(await probe("203.0.113.11:80"))];
      expect(during).not.toContain("rs1");
      expect(during).not.toContain("-");

      // A second drain of the same realserver is refused while this one runs.
      const twice = await consoleErrorOf(
        caller.drains.start({
          clusterId: "drain",
          realserver: rs1,
          expectedVersions: await versions(),
        }),
      );
      expect(twice.details.reason).toBe("already-draining");

      // Follow the live progress until every counter is 0.
      const timeline: string[] = [];
      const deadline = t0 + DRAIN_BUDGET_MS;
      let last: DrainProgress | null = null;
      let mostActive = 0;
      {
        const stream = await caller.drains.progress({ drainId: started.drainId });
        // Leaving the loop ends the subscription (and its poller subscriptions).
        for await (const item of stream) {
          // A server-side caller hands out the tracked envelope itself ([id, data, marker]).
          const p = isTrackedEnvelope<DrainProgress>(item) ? item[1] : item.data;
          last = p;
          const { active, inactive, persistent } = p.totals;
          mostActive = Math.max(mostActive, active);
          const line = `${((Date.now() - t0) / 1000).toFixed(0)}s active=${active} inactive=${inactive} persistent=${persistent}`;
          if (timeline.at(-1)?.replace(/^\d+s /, "") !== line.replace(/^\d+s /, ""))
            timeline.push(line);
          if (p.drained || Date.now() > deadline) break;
        }
      }
      const seconds = (Date.now() - t0) / 1000;
      console.info(
        `drain of 10.10.0.11:80 reached 0 after ${seconds.toFixed(0)} s:\n  ${timeline.join("\n  ")}`,
      );
      // The held connections were still open on rs1 when the drain began.
      expect(mostActive).toBeGreaterThan(0);
      expect(last?.drained).toBe(true);
      expect(getDrain(started.drainId)?.state).toBe("drained");

      const undone = await caller.drains.undrain({
        drainId: started.drainId,
        expectedVersions: await versions(),
      });
      expect(undone).toMatchObject({ ok: true, result: "ok" });
      expect(await rs1Rule()).toEqual({
        saved: "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1",
        thresholds: "100/50",
      });
      const saved = await onLab(LAB, "ipvsadm -Sn");
      expect(saved).toContain("-a -t 203.0.113.10:8080 -r 10.10.0.11:80 -m -w 3\n");
      expect(saved).toContain("-a -f 1 -r 10.10.0.11:80 -m -w 1\n");
      expect(getDrain(started.drainId)?.state).toBe("undrained");
      expect(await probe("203.0.113.11:80")).toContain("rs1");

      const audit = await caller.audit.list({ clusterId: "drain", limit: 3 });
      expect(audit.entries.map((e) => [e.action, e.result])).toEqual([
        ["drain.undrain", "ok"],
        ["drain.start", "refused"],
        ["drain.start", "ok"],
      ]);
    },
  );
});

describe("a drain whose weights came back by hand", () => {
  it("is finished by an undrain with nothing to run, and a hand restore is read as such", async () => {
    // Every member line of rs1 as it was before the drains (whatever services earlier tests
    // left it in), put back with `ipvsadm -e` as an operator would by hand.
    const held = (await onLab(LAB, "ipvsadm -Sn"))
      .split("\n")
      .filter((l) => l.startsWith("-a ") && l.includes(" -r 10.10.0.11:80 "));
    expect(held.length).toBeGreaterThan(0);
    const restoreByHand = () =>
      onLab(LAB, held.map((l) => `ipvsadm ${l.replace(/^-a /, "-e ")}`).join(" && "));
    const start = async () => {
      const p = await caller.drains.preview({ clusterId: "drain", realserver: rs1 });
      const d = await caller.drains.start({
        clusterId: "drain",
        realserver: rs1,
        expectedVersions: p.versions,
      });
      expect(d).toMatchObject({ ok: true, result: "ok" });
      return d.drainId;
    };
    const versions = async () =>
      (
        await caller.changes.preview({
          clusterId: "drain",
          change: { kind: "setWeight", service: web, realserver: rs1, weight: 7 },
        })
      ).versions;

    // Restored by hand, then undrained: nothing runs, the drain is closed.
    const first = await start();
    await restoreByHand();
    const undrained = await caller.drains.undrain({
      drainId: first,
      expectedVersions: await versions(),
    });
    expect(undrained).toMatchObject({ ok: true, result: "ok" });
    expect(undrained.results[0]?.steps).toEqual([]);
    expect((await caller.drains.get({ drainId: first })).state).toBe("undrained");

    // Restored by hand and only read: closed as restored outside the console.
    const second = await start();
    await restoreByHand();
    const read = await readDrainProgress(second);
    expect(read.restored).toBe(true);
    expect(await caller.drains.get({ drainId: second })).toMatchObject({
      state: "undrained",
      undone: { by: "outside the console", directorId: "drain-lab" },
    });
    expect(await onLab(LAB, "ipvsadm -Sn")).toContain(
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1\n",
    );
  });
});
