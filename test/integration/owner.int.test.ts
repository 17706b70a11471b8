/**
 * Who owns the rules, on the real keepalived HA pair (lab.sh up --ha; LVS_HA_LAB_NAME /
 * LVS_HA_LAB_PORT pick the pair, default "ha" on 2230-2231, started here unless running):
 * owner and drift on both directors, VRRP state before and after a failover, a runtime
 * drain undone by keepalived's checker recovery, and a hand-made ipvsadm change noticed as
 * a change outside the console. Polled by the real pollers, a full read every 2 polls.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, setConfig, type DirectorConfig } from "@/server/config";
import { closeDb } from "@/server/db";
import { getDrain } from "@/server/db/drains";
import { listOutsideEvents } from "@/server/db/outside";
import { getPollers } from "@/server/live/registry";
import type { DirectorStatus } from "@/server/live/types";
import { readOwner } from "@/server/live/owner";
import { DEFAULT_OWNER_READ, OWNER_SCRIPT, ownerArgs } from "@/server/live/owner-script";
import { getSshPool } from "@/server/db/ssh-pool";
import { ensureHaLab, labRunDir, stopLab } from "../../lab/harness";
import { directorConfigOf } from "./lab-director";
import { onLab, operatorCaller } from "./console-harness";

const HA = process.env.LVS_HA_LAB_NAME ?? "ha";
const HA_PORT = Number(process.env.LVS_HA_LAB_PORT ?? 2230);
const A = `${HA}-a`;
const B = `${HA}-b`;
const CLUSTER = "ha";

let startedByUs = false;
let dbDir = "";
let directors: DirectorConfig[] = [];
const offs: Array<() => void> = [];
const caller = operatorCaller();

function director(id: string): DirectorConfig {
  const d = directors.find((x) => x.id === id);
  if (!d) throw new Error(`no director ${id}`);
  return d;
}

/** Resolves with the first status of `id` that satisfies `ok` (the pollers keep running). */
function statusWhere(
  id: string,
  ok: (s: DirectorStatus) => boolean,
  timeoutMs = 60_000,
): Promise<DirectorStatus> {
  return new Promise((resolve, reject) => {
    const poller = getPollers().poller(director(id));
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `${id}: not there in ${timeoutMs} ms: ${JSON.stringify(poller.current().snapshot?.owner?.vrrp)}`,
        ),
      );
    }, timeoutMs);
    const check = (s: DirectorStatus) => {
      if (!ok(s)) return;
      clearTimeout(timer);
      queueMicrotask(() => off());
      resolve(s);
    };
    off = getPollers().follow(director(id), check);
  });
}

const role = (s: DirectorStatus) => s.snapshot?.owner?.role ?? null;

beforeAll(async () => {
  const ha = await ensureHaLab({ name: HA, port: HA_PORT });
  startedByUs = ha.startedByUs;
  directors = ha.directors.map((d) => directorConfigOf(d, { clusterId: CLUSTER }));
  dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-owner-"));
  process.env.LVS_CONSOLE_DB = path.join(dbDir, "console.sqlite");
  setConfig(
    configFromObject({
      pollIntervalMs: 1000,
      fullReadEvery: 2,
      clusters: [
        {
          id: CLUSTER,
          name: "HA pair",
          directors: directors.map(({ clusterId: _c, ...d }) => d),
        },
      ],
    }),
  );
  // Keep both pollers running for the whole file, as an open fleet page would.
  for (const d of directors) offs.push(getPollers().watch(d, () => {}));
  expect(fs.existsSync(labRunDir(A))).toBe(true);
});

afterAll(async () => {
  offs.forEach((off) => off());
  getSshPool().closeAll();
  closeDb();
  setConfig(undefined);
  delete process.env.LVS_CONSOLE_DB;
  if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  if (startedByUs) await stopLab(HA);
});

describe("owner and drift on both directors of the pair", () => {
  it("says keepalived owns both, A is MASTER with the master sync daemon, B the BACKUP", async () => {
    const [a, b] = await Promise.all([
      statusWhere(A, (s) => role(s) === "MASTER"),
      statusWhere(B, (s) => role(s) === "BACKUP"),
    ]);
    for (const s of [a, b]) {
      const owner = s.snapshot?.owner;
      expect(owner?.summary).toEqual({
        kind: "keepalived",
        label: "keepalived v2.2.7 at /etc/keepalived/keepalived.conf",
      });
      expect(owner?.keepalived?.files).toContain("/etc/keepalived/conf.d/app.conf");
      expect(owner?.findings.filter((f) => f.severity === "error")).toEqual([]);
      const app = owner?.services.find((x) => x.key.kind === "tcp" && x.key.port === 9090);
      expect(app?.owner).toEqual({
        kind: "keepalived",
        file: "/etc/keepalived/conf.d/app.conf",
        line: 4,
      });
      const tls = owner?.services.find((x) => x.key.kind === "tcp" && x.key.port === 443);
      expect(tls?.owner).toEqual({ kind: "rules-file", path: "/etc/ipvsadm.rules" });
      expect(owner?.driftCount).toBe(0);
      console.log(`${s.directorId}: owner read ${owner?.costMs} ms`);
    }
    expect(a.snapshot?.owner?.syncDaemon.map((d) => d.role)).toEqual(["master"]);
    expect(b.snapshot?.owner?.syncDaemon.map((d) => d.role)).toEqual(["backup"]);
    expect(a.snapshot?.owner?.vrrp.map((v) => [v.name, v.state])).toEqual([
      ["VI_PUB", "MASTER"],
      ["VI_INT", "MASTER"],
    ]);
  });

  it("costs a bounded number of processes on the director", async () => {
    // /proc/loadavg's last field is the newest pid: the difference counts every process
    // (and thread) started in between; an empty script gives the SSH session's own share.
    const pool = getSshPool();
    const lastPid = async () =>
      Number((await pool.execChecked(director(A), ["cat", "/proc/loadavg"])).stdout.split(" ")[4]);
    // keepalived's own MISC_CHECK forks every 2 s: the fewest of three runs is the script's.
    const counts: number[] = [];
    let ms = Infinity;
    for (let i = 0; i < 3; i++) {
      const p0 = await lastPid();
      await pool.execScript(director(A), ":");
      const p1 = await lastPid();
      const t = Date.now();
      await pool.execScript(director(A), OWNER_SCRIPT, { args: ownerArgs() });
      ms = Math.min(ms, Date.now() - t);
      const p2 = await lastPid();
      counts.push(p2 - p1 - (p1 - p0));
    }
    // A run can count negative (the pid counter wrapped, or a process of keepalived's
    // started between the reads): the fewest of the positive runs is the script's.
    const positive = counts.filter((c) => c > 0);
    expect(positive.length).toBeGreaterThan(0);
    const processes = Math.min(...positive);
    console.log(
      `owner read on ${A}: ${ms} ms, ${processes} processes (runs: ${counts.join(", ")})`,
    );
    expect(processes).toBeGreaterThan(0);
    // 11 programs (tr, keepalived --version, an awk per config file and one for the rest,
    // stat twice, sleep, ipvsadm) plus the subshells of the command substitutions.
    // Bounded, with room for processes keepalived itself starts meanwhile on a loaded host.
    expect(processes).toBeLessThan(60);
  });

  it("gives owner reads asked at once keepalived's dump each, one read after the other", async () => {
    // Beside the pollers' own reads: two SIGUSR1s at once can merge into one dump, and the
    // read that missed it would poll for it until its timeout.
    const pool = getSshPool();
    const reads = await Promise.all([1, 2, 3].map(() => readOwner(pool, director(A))));
    for (const inputs of reads) {
      expect(inputs?.raw.keepalived.pid).toBeGreaterThan(1);
      expect(inputs?.raw.keepalived.dumpWaits).toBeLessThan(DEFAULT_OWNER_READ.dumpTries);
      expect(inputs?.raw.keepalived.vrrpData).toContain(" VRRP Instance = VI_PUB");
    }
    // The second and third joined one read queued behind the first.
    expect(reads[2]).toBe(reads[1]);
  });
});

describe("changes outside the console", () => {
  it("notices an ipvsadm -e made by hand, by someone outside the console", async () => {
    await statusWhere(B, (s) => s.snapshot?.owner != null);
    await onLab(B, "ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 5");
    try {
      await statusWhere(B, () =>
        listOutsideEvents({ directorId: B }).some((e) => e.summary.includes("weight 2 -> 5")),
      );
      const event = listOutsideEvents({ directorId: B }).find((e) =>
        e.summary.includes("weight 2 -> 5"),
      );
      expect(event?.action).toBe("outside.change");
      expect(event?.user).toBe("outside the console");
      expect(event?.summary).toBe(
        "outside the console: TCP 203.0.113.10:8080: 10.10.0.12:80 weight 2 -> 5",
      );
      const drift = await statusWhere(B, (s) => (s.snapshot?.owner?.driftCount ?? 0) > 0);
      const rs = drift.snapshot?.owner?.services
        .find((x) => x.key.kind === "tcp" && x.key.port === 8080)
        ?.realservers.find((r) => r.address === "10.10.0.12");
      expect(rs?.drift.map((d) => d.message)).toEqual([
        "keepalived: weight 2, kernel 5: changed at runtime; keepalived puts 2 back when its checker recovers or it restarts",
      ]);
    } finally {
      await onLab(B, "ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 2");
    }
  });

  it("reports a runtime drain that keepalived's checker recovery undid", async () => {
    const rs = { address: "10.10.0.11", port: 80 };
    await Promise.all([A, B].map((id) => statusWhere(id, (s) => s.snapshot?.owner != null)));
    const preview = await caller.drains.preview({ clusterId: CLUSTER, realserver: rs });
    const undo = preview.warnings.filter((w) => w.code === "runtime-undo").map((w) => w.message);
    expect(undo).toContain(
      `${A}, TCP 203.0.113.11:9090 10.10.0.11:80: runtime only: keepalived will put weight 3 back when its checker recovers or it restarts`,
    );
    expect(undo).toContain(
      `${B}, TCP 203.0.113.11:9090 10.10.0.11:80: runtime only: keepalived will put weight 3 back when its checker recovers or it restarts`,
    );
    const started = await caller.drains.start({
      clusterId: CLUSTER,
      realserver: rs,
      expectedVersions: preview.versions,
    });
    const flag = "/run/lab/rs-down/10.10.0.11";
    try {
      await onLab(A, `touch ${flag}`);
      await statusWhere(A, (s) => {
        const r = s.snapshot?.owner?.services
          .find((x) => x.key.kind === "tcp" && x.key.port === 9090)
          ?.realservers.find((m) => m.address === rs.address);
        return r?.checker === "down";
      });
      await onLab(A, `rm -f ${flag}`);
      const t0 = Date.now();
      await statusWhere(A, () => getDrain(started.drainId)?.undone != null, 60_000);
      const drain = getDrain(started.drainId);
      expect(drain?.state).toBe("undrained");
      expect(drain?.undone).toMatchObject({ by: "keepalived", directorId: A });
      const event = listOutsideEvents({ directorId: A }).find((e) => e.action === "drain.undone");
      expect(event?.summary).toBe(
        `drain ${started.drainId} undone on ${A} by keepalived: 10.10.0.11:80 in TCP 203.0.113.11:9090 back at weight 3`,
      );
      console.log(`drain undone seen ${Date.now() - t0} ms after the checker recovered`);
    } finally {
      await onLab(A, `rm -f ${flag}`);
      // Put the drained weights back on both (80: 1, 8080: 3), as keepalived's config has them.
      for (const id of [A, B])
        await onLab(
          id,
          "ipvsadm -e -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1; ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.11:80 -m -w 3; ipvsadm -e -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 3",
        );
    }
  });
});

describe("failover", () => {
  it("moves MASTER to B when keepalived stops on A, and back when it starts again", async () => {
    await statusWhere(A, (s) => role(s) === "MASTER");
    const t0 = Date.now();
    await onLab(A, "lab-keepalived stop");
    try {
      const b = await statusWhere(B, (s) => role(s) === "MASTER");
      console.log(`failover seen by the console ${Date.now() - t0} ms after lab-keepalived stop`);
      expect(b.snapshot?.owner?.syncDaemon.map((d) => d.role)).toContain("master");
      const a = await statusWhere(A, (s) => s.snapshot?.owner?.keepalived?.running === false);
      expect(a.snapshot?.owner?.role).toBeNull();
    } finally {
      await onLab(A, "lab-keepalived start");
    }
    await statusWhere(A, (s) => role(s) === "MASTER");
    await statusWhere(B, (s) => role(s) === "BACKUP");
  });
});
