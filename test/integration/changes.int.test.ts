/**
 * Changes against the real lab director over SSH: preview, apply, read back, verify, audit.
 * Every change here is reverted by the test that makes it; afterAll restores the lab's
 * original rules from the fixture whatever happened.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { ChangeInput } from "@/server/ipvs/change";
import { labDirector, labName } from "./lab-director";
import {
  consoleErrorOf,
  onLab,
  operatorCaller,
  OPERATOR,
  restoreRules,
  setUpConsole,
  tearDownConsole,
} from "./console-harness";

let director: DirectorConfig;
const caller = operatorCaller();
const alt = { kind: "tcp", address: "203.0.113.10", port: 8080 } as const;

beforeAll(async () => {
  director = await labDirector();
  setUpConsole([{ id: "lab", directors: [director] }]);
});

afterAll(async () => {
  try {
    await restoreRules(labName());
  } finally {
    tearDownConsole();
  }
});

/** Preview, then apply with the previewed versions; returns the apply result. */
async function previewAndApply(change: ChangeInput) {
  const preview = await caller.changes.preview({ clusterId: "lab", change });
  const first = preview.perDirector[0];
  if (!first?.ok) throw new Error(`preview refused: ${JSON.stringify(first)}`);
  return caller.changes.commit({ clusterId: "lab", change, expectedVersions: preview.versions });
}

/** The `ipvsadm -Sn` lines of one service (-Sn lists everything), newline-terminated. */
async function saved(service: string): Promise<string> {
  const lines = (await onLab(labName(), "ipvsadm -Sn")).split("\n");
  const mine = lines.filter((l) => l.includes(` ${service} `) || l.endsWith(` ${service}`));
  return mine.map((l) => `${l}\n`).join("");
}

/** "ADDR:PORT UPPER LOWER" per member, from `ipvsadm -Ln --thresholds` (-Sn does not show thresholds). */
async function thresholds(service: string): Promise<string[]> {
  const out = await onLab(labName(), `ipvsadm -Ln --thresholds -t ${service}`);
  return out
    .split("\n")
    .filter((l) => /^\s+->\s+\d/.test(l))
    .map((l) => l.trim().split(/\s+/).slice(1, 4).join(" "));
}

describe("changes on the lab director", () => {
  it("sets a weight, keeps the forwarding method, and reverts it", async () => {
    const change: ChangeInput = {
      kind: "setWeight",
      service: alt,
      realserver: { address: "10.10.0.12", port: 80 },
      weight: 7,
    };
    const preview = await caller.changes.preview({ clusterId: "lab", change });
    expect(preview.versions[director.id]).toMatch(/^[0-9a-f]{64}$/);
    const step = preview.perDirector[0]?.ok ? preview.perDirector[0].steps[0] : undefined;
    expect(step?.argv).toEqual([
      "ipvsadm",
      "-e",
      "-t",
      "203.0.113.10:8080",
      "-r",
      "10.10.0.12:80",
      "-m",
      "-w",
      "7",
      "-x",
      "0",
      "-y",
      "0",
    ]);

    const result = await caller.changes.commit({
      clusterId: "lab",
      change,
      expectedVersions: preview.versions,
    });
    expect(result).toMatchObject({ ok: true, result: "ok", error: null });
    expect(result.results[0]).toMatchObject({
      ok: true,
      verified: true,
      steps: [{ exitCode: 0, stderr: "" }],
    });
    expect(await saved("203.0.113.10:8080")).toContain(
      "-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 7\n",
    );

    const back = await caller.changes.commit({
      clusterId: "lab",
      change: { ...change, weight: 2 },
      expectedVersions: { [director.id]: result.results[0]?.version ?? "" },
    });
    expect(back.ok).toBe(true);
    expect(await saved("203.0.113.10:8080")).toContain(
      "-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 2\n",
    );

    const audit = await caller.audit.list({ user: OPERATOR, limit: 2 });
    expect(audit.entries.map((e) => [e.result, e.summary])).toEqual([
      ["ok", "set weight of 10.10.0.12:80 in TCP 203.0.113.10:8080 to 2"],
      ["ok", "set weight of 10.10.0.12:80 in TCP 203.0.113.10:8080 to 7"],
    ]);
    expect(
      audit.entries[1]?.before[director.id]?.services[0]?.realservers.find(
        (r) => r.address === "10.10.0.12",
      )?.weight,
    ).toBe(2);
    expect(
      audit.entries[1]?.after?.[director.id]?.services[0]?.realservers.find(
        (r) => r.address === "10.10.0.12",
      )?.weight,
    ).toBe(7);
  });

  it("adds a realserver and removes it", async () => {
    const realserver = {
      address: "10.10.0.13",
      port: 8081,
      forward: "masq",
      weight: 4,
      upperThreshold: 20,
      lowerThreshold: 10,
    } as const;
    const added = await previewAndApply({ kind: "addRealserver", service: alt, realserver });
    expect(added.results[0]).toMatchObject({ ok: true, verified: true });
    expect(await saved("203.0.113.10:8080")).toContain(
      "-a -t 203.0.113.10:8080 -r 10.10.0.13:8081 -m -w 4\n",
    );
    expect(await thresholds("203.0.113.10:8080")).toContain("10.10.0.13:8081 20 10");

    const removed = await previewAndApply({
      kind: "removeRealserver",
      service: alt,
      realserver: { address: "10.10.0.13", port: 8081 },
    });
    expect(removed.results[0]).toMatchObject({ ok: true, verified: true });
    expect(await saved("203.0.113.10:8080")).not.toContain("10.10.0.13:8081");
  });

  it("adds, edits and deletes a virtual service on a fresh VIP", async () => {
    const key = { kind: "tcp", address: "203.0.113.50", port: 80 } as const;
    const added = await previewAndApply({
      kind: "addService",
      service: { key, scheduler: "wrr" },
      realservers: [
        { address: "10.10.0.11", port: 80, forward: "masq", weight: 2 },
        {
          address: "10.10.0.12",
          port: 80,
          forward: "masq",
          weight: 1,
          upperThreshold: 10,
          lowerThreshold: 5,
        },
      ],
    });
    expect(added.results[0]?.steps).toHaveLength(3);
    expect(added.results[0]).toMatchObject({ ok: true, verified: true });
    expect(await saved("203.0.113.50:80")).toBe(
      "-A -t 203.0.113.50:80 -s wrr\n-a -t 203.0.113.50:80 -r 10.10.0.11:80 -m -w 2\n-a -t 203.0.113.50:80 -r 10.10.0.12:80 -m -w 1\n",
    );
    expect(await thresholds("203.0.113.50:80")).toEqual([
      "10.10.0.11:80 0 0",
      "10.10.0.12:80 10 5",
    ]);

    const edited = await previewAndApply({
      kind: "editService",
      service: { key, scheduler: "rr", persistence: { timeout: 60, netmask: "255.255.255.0" } },
    });
    expect(edited.results[0]).toMatchObject({ ok: true, verified: true });
    // The members keep their weights and thresholds across `ipvsadm -E`.
    expect(await saved("203.0.113.50:80")).toBe(
      "-A -t 203.0.113.50:80 -s rr -p 60 -M 255.255.255.0\n-a -t 203.0.113.50:80 -r 10.10.0.11:80 -m -w 2\n-a -t 203.0.113.50:80 -r 10.10.0.12:80 -m -w 1\n",
    );
    expect(await thresholds("203.0.113.50:80")).toEqual([
      "10.10.0.11:80 0 0",
      "10.10.0.12:80 10 5",
    ]);

    const deleted = await previewAndApply({ kind: "deleteService", service: key });
    expect(deleted.results[0]).toMatchObject({ ok: true, verified: true });
    const gone = await onLab(labName(), "ipvsadm -Ln -t 203.0.113.50:80 >/dev/null 2>&1; echo $?");
    expect(gone.trim()).toBe("1");
  });

  it("refuses with CONFLICT, saying what changed, when the director is edited behind the console's back", async () => {
    const change: ChangeInput = {
      kind: "setWeight",
      service: alt,
      realserver: { address: "10.10.0.11", port: 80 },
      weight: 4,
    };
    const preview = await caller.changes.preview({ clusterId: "lab", change });
    await onLab(labName(), "ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 5");
    try {
      const e = await consoleErrorOf(
        caller.changes.commit({ clusterId: "lab", change, expectedVersions: preview.versions }),
      );
      expect(e.code).toBe("CONFLICT");
      expect(e.details.changes).toEqual([
        expect.objectContaining({
          directorId: director.id,
          text: "TCP 203.0.113.10:8080: 10.10.0.13:80 weight 0 -> 5",
        }),
      ]);
      // Nothing was applied.
      expect(await saved("203.0.113.10:8080")).toContain("-r 10.10.0.11:80 -m -w 3\n");
      const audit = await caller.audit.list({ result: "conflict", limit: 1 });
      expect(audit.entries[0]?.id).toBe(e.details.auditId);
    } finally {
      await onLab(labName(), "ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 0");
    }
  });

  it("refuses what the planner refuses, before running anything", async () => {
    const change: ChangeInput = {
      kind: "addService",
      service: { key: { kind: "tcp", address: "203.0.113.10", port: 80 }, scheduler: "rr" },
    };
    const preview = await caller.changes.preview({ clusterId: "lab", change });
    expect(preview.perDirector[0]).toMatchObject({ ok: false, reason: "service-exists" });
    const e = await consoleErrorOf(
      caller.changes.commit({ clusterId: "lab", change, expectedVersions: preview.versions }),
    );
    expect(e).toMatchObject({ code: "REFUSED", details: { reason: "service-exists" } });
    const [entry] = (await caller.audit.list({ result: "refused", limit: 1 })).entries;
    expect(entry).toMatchObject({ id: e.details.auditId, argv: { [director.id]: [] } });
  });

  it("reports a command the kernel refuses with its exit code, stderr and meaning", async () => {
    const result = await previewAndApply({
      kind: "addService",
      service: {
        key: { kind: "tcp", address: "203.0.113.51", port: 80 },
        scheduler: "rr",
        persistence: { timeout: 30 },
        pe: "nosuchpe",
      },
    });
    expect(result).toMatchObject({
      ok: false,
      result: "failed",
      error: { code: "COMMAND_FAILED" },
    });
    expect(result.results[0]?.steps[0]).toMatchObject({
      exitCode: 255,
      // The locked apply script reports each command's stderr without its last newline.
      stderr: "Scheduler or persistence engine not found",
    });
    expect(result.results[0]?.error?.details).toMatchObject({
      ipvs: { kind: "scheduler-not-found", exitClass: "kernel-refusal" },
    });
    const [entry] = (await caller.audit.list({ result: "failed", limit: 1 })).entries;
    expect(entry).toMatchObject({ id: result.auditId, error: { code: "COMMAND_FAILED" } });
  });
});
