/**
 * The pair stays identical, on the real keepalived HA pair (lab.sh up --ha; LVS_HA_LAB_NAME /
 * LVS_HA_LAB_PORT pick it, started here unless running): B's keepalived config edited by
 * hand and reloaded, plus a runtime member on B; the diff names both; "make B like A" is
 * refused on a stale preview, then copies A's virtual_server block into B's own file
 * (B's VRRP settings untouched), removes the runtime member, and both directors read back
 * identical, with audit entries. Then "save running rules" and "restore saved rules" on a
 * director whose /etc/ipvsadm.rules loads at boot.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, setConfig, type DirectorConfig } from "@/server/config";
import { closeDb } from "@/server/db";
import { listAudit } from "@/server/db/audit";
import { getSshPool } from "@/server/db/ssh-pool";
import { applyPairSync, previewPairSync, readPairDiff } from "@/server/directors/pair";
import {
  applyRulesFileAction,
  previewRestore,
  previewSave,
} from "@/server/directors/rules-file-flow";
import { ConsoleError } from "@/server/errors";
import { ensureHaLab, labExec, stopLab } from "../../lab/harness";
import { directorConfigOf } from "./lab-director";

const HA = process.env.LVS_HA_LAB_NAME ?? "hal";
const HA_PORT = Number(process.env.LVS_HA_LAB_PORT ?? 2264);
const A = `${HA}-a`;
const B = `${HA}-b`;
const CLUSTER = "pair";
const APP_FILE = "/etc/keepalived/conf.d/app.conf";
const USER = { name: "admin", remoteAddress: "127.0.0.1" };
const EXTRA = "-a -t 203.0.113.11:443 -r 10.10.0.12:443 -m -w 2";

let startedByUs = false;
let dbDir = "";
let directors: DirectorConfig[] = [];
let rulesFile = "";

async function sh(name: string, command: string): Promise<string> {
  const r = await labExec(name, command, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${name}: ${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Waits (polling the kernel every 100 ms, in one ssh call) until every line is there. */
async function kernelHolds(name: string, lines: string[], absent: string[] = []): Promise<void> {
  const want = lines.map((l) => `grep -qxF -- '${l}' "$f"`);
  const gone = absent.map((l) => `! grep -qxF -- '${l}' "$f"`);
  const test = [...want, ...gone].join(" && ") || "true";
  const script = `f=$(mktemp); i=0; while [ $i -lt 300 ]; do ipvsadm-save -n > "$f"; if ${test}; then exit 0; fi; i=$((i+1)); sleep 0.1; done; cat "$f"; exit 1`;
  const r = await labExec(name, script, { timeoutMs: 60_000 });
  expect(r.code, `${name}: kernel lacks ${lines.join(" | ")}:\n${r.stdout}`).toBe(0);
}

async function errorOf(p: Promise<unknown>): Promise<ConsoleError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ConsoleError);
  return e as ConsoleError;
}

beforeAll(async () => {
  const ha = await ensureHaLab({ name: HA, port: HA_PORT });
  startedByUs = ha.startedByUs;
  directors = ha.directors.map((d) => directorConfigOf(d, { clusterId: CLUSTER }));
  dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-pair-"));
  process.env.LVS_CONSOLE_DB = path.join(dbDir, "console.sqlite");
  setConfig(
    configFromObject({
      clusters: [
        { id: CLUSTER, name: "HA pair", directors: directors.map(({ clusterId: _c, ...d }) => d) },
      ],
    }),
  );
  // Start from a pair that matches (an earlier run may have stopped half way).
  const app = await sh(A, `cat ${APP_FILE}`);
  await sh(B, `printf '%s' '${app.replace(/'/g, "'\\''")}' > ${APP_FILE} && lab-keepalived reload`);
  rulesFile = await sh(A, "cat /etc/ipvsadm.rules");
  await Promise.all(
    [A, B].map((n) => labExec(n, `ipvsadm ${EXTRA.replace("-a", "-d").replace(/ -m -w 2$/, "")}`)),
  );
  await kernelHolds(B, ["-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w 2"]);
}, 300_000);

afterAll(async () => {
  getSshPool().closeAll();
  closeDb();
  setConfig(undefined);
  delete process.env.LVS_CONSOLE_DB;
  if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  if (startedByUs) await stopLab(HA);
});

describe("the pair stays identical", () => {
  it("the lab's pair is identical: their VRRP settings differ and are not compared", async () => {
    const d = await readPairDiff(CLUSTER);
    expect(d.count).toBe(0);
    expect(d.identical).toBe(true);
    expect(d.blocks.length).toBe(5);
  }, 60_000);

  it("B edited by hand + reloaded, and a runtime member on B: diffed, then made like A", async () => {
    await sh(
      B,
      `sed -i 's/^        weight 2$/        weight 4/' ${APP_FILE} && lab-keepalived reload && ipvsadm ${EXTRA.replace("-w 2", "-w 1")}`,
    );
    await kernelHolds(B, ["-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w 4"]);

    const diff = await readPairDiff(CLUSTER);
    expect(diff.identical).toBe(false);
    expect(diff.blocks.filter((b) => b.status !== "same").map((b) => b.name)).toEqual([
      "TCP 203.0.113.11:9090",
    ]);
    expect(diff.rules.map((r) => r.text).sort()).toEqual([
      `TCP 203.0.113.11:443 10.10.0.12:443: only on ${B}`,
      `TCP 203.0.113.11:9090 10.10.0.12:80: weight 2 on ${A}, 4 on ${B}`,
    ]);

    const preview = await previewPairSync(CLUSTER, A, B);
    expect(preview.diff).toBe(
      [
        `--- ${APP_FILE}`,
        `+++ ${APP_FILE}`,
        "@@ -19,1 +19,1 @@",
        "-        weight 4",
        "+        weight 2",
      ].join("\n"),
    );
    expect(preview.commands).toEqual([
      ["ipvsadm", "-d", "-t", "203.0.113.11:443", "-r", "10.10.0.12:443"],
    ]);

    // Bad input and a stale preview: clear errors, nothing changed.
    expect((await errorOf(previewPairSync(CLUSTER, A, A))).code).toBe("VALIDATION");
    const stale = await errorOf(
      applyPairSync({
        clusterId: CLUSTER,
        sourceId: A,
        targetId: B,
        expectedVersions: { ...preview.versions, [B]: "0".repeat(64) },
        user: USER,
      }),
    );
    expect(stale.code).toBe("CONFLICT");
    expect(stale.message).toContain(B);
    await kernelHolds(B, ["-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w 4"]);

    const started = Date.now();
    const result = await applyPairSync({
      clusterId: CLUSTER,
      sourceId: A,
      targetId: B,
      expectedVersions: preview.versions,
      user: USER,
    });
    const ms = Date.now() - started;
    expect(result.status).toBe("applied");
    expect(result.outcome?.result).toBe("ok");
    expect(result.after.identical).toBe(true);
    console.info(`pair sync B like A: ${ms} ms, tx ${JSON.stringify(result.outcome?.timings)}`);

    // Read back independently: same file on both, B's VRRP settings untouched, same kernel.
    const [sumA, sumB] = await Promise.all([A, B].map((n) => sh(n, `sha256sum < ${APP_FILE}`)));
    expect(sumB).toBe(sumA);
    expect(await sh(B, "grep -c 'state BACKUP' /etc/keepalived/keepalived.conf")).toBe("2\n");
    const [saveA, saveB] = await Promise.all([A, B].map((n) => sh(n, "ipvsadm-save -n")));
    expect(saveB).toBe(saveA);
    expect((await readPairDiff(CLUSTER)).identical).toBe(true);

    const audit = listAudit({ clusterId: CLUSTER }).entries.filter((e) => e.action === "pair.sync");
    expect(audit.map((e) => e.result)).toEqual(["ok", "conflict"]);
    expect(audit[0]?.summary).toBe(`make ${B} like ${A}`);
    expect(JSON.stringify(audit[0]?.details)).toContain("+        weight 2");
    expect(audit[0]?.argv[B]).toEqual(preview.commands);
  }, 120_000);
});

describe("save and restore a boot rules file", () => {
  it("restore removes a runtime member the file lacks; save writes one; stale versions conflict", async () => {
    const d = directors[0];
    if (!d) throw new Error("no director");
    await sh(A, `ipvsadm ${EXTRA}`);

    const restore = await previewRestore(A);
    expect(restore.path).toBe("/etc/ipvsadm.rules");
    expect(restore.commands).toEqual([
      ["ipvsadm", "-d", "-t", "203.0.113.11:443", "-r", "10.10.0.12:443"],
    ]);
    expect(restore.warning).toContain("keepalived's 5 service(s) are left alone");
    const save = await previewSave(A);
    expect(save.diff).toContain(`+${EXTRA}`);
    expect(save.diff).not.toContain("9090");

    const stale = await errorOf(
      applyRulesFileAction({
        directorId: A,
        action: "save",
        expectedVersion: restore.version.replace(/^./, "x"),
        user: USER,
      }),
    );
    expect(stale.code).toBe("CONFLICT");
    expect(await sh(A, "cat /etc/ipvsadm.rules")).toBe(rulesFile);

    const restored = await applyRulesFileAction({
      directorId: A,
      action: "restore",
      expectedVersion: restore.version,
      user: USER,
    });
    expect(restored.status).toBe("applied");
    await kernelHolds(A, ["-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 1"], [EXTRA]);
    expect((await previewRestore(A)).nothingToDo).toBe(true);

    await sh(A, `ipvsadm ${EXTRA}`);
    const save2 = await previewSave(A);
    const saved = await applyRulesFileAction({
      directorId: A,
      action: "save",
      expectedVersion: save2.version,
      user: USER,
    });
    expect(saved.status).toBe("applied");
    expect(await sh(A, "cat /etc/ipvsadm.rules")).toContain(EXTRA);
    expect((await previewRestore(A)).nothingToDo).toBe(true);
    expect((await previewSave(A)).nothingToDo).toBe(true);

    const audit = listAudit({ directorId: A }).entries.filter((e) => e.action.startsWith("rules."));
    expect(audit.map((e) => `${e.action} ${e.result}`)).toEqual([
      "rules.save ok",
      "rules.restore ok",
      "rules.save conflict",
    ]);

    // Back to the lab's own file and kernel.
    await sh(A, `ipvsadm ${EXTRA.replace("-a", "-d").replace(/ -m -w 2$/, "")}`);
    await sh(A, `printf '%s' '${rulesFile.replace(/'/g, "'\\''")}' > /etc/ipvsadm.rules`);
  }, 120_000);
});
