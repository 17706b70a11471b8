/**
 * Changes that last, on the real keepalived HA pair (lab.sh up --ha; LVS_HA_LAB_NAME /
 * LVS_HA_LAB_PORT pick the pair, default "hal" on 2264-2265, started here unless running):
 * a weight change, a drain, a new realserver and a service edit written into keepalived's
 * config on BOTH directors, then a reload, a restart, a checker flap and a failover: the
 * kernel and the files still hold them. A failing `keepalived -t` puts the files back; a
 * file edited by hand after the preview is a conflict; a rules file keeps a change across
 * a simulated boot.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, setConfig, type DirectorConfig } from "@/server/config";
import { closeDb } from "@/server/db";
import { ConsoleError } from "@/server/errors";
import { applyLasting, previewLasting, runTransaction } from "@/server/directors/lasting";
import {
  applyLastingChange,
  previewLastingChange,
  undrainLastingChange,
} from "@/server/directors/lasting-flow";
import { saveRunningRules } from "@/server/directors/rules-save";
import { listAudit } from "@/server/db/audit";
import type { LastingChange } from "@/server/ipvs/lasting/plan";
import { sha256, txStamp } from "@/server/ipvs/lasting/tx-script";
import { getSshPool } from "@/server/db/ssh-pool";
import { ensureHaLab, labExec, stopLab } from "../../lab/harness";
import { directorConfigOf } from "./lab-director";

const HA = process.env.LVS_HA_LAB_NAME ?? "hal";
const HA_PORT = Number(process.env.LVS_HA_LAB_PORT ?? 2264);
const A = `${HA}-a`;
const B = `${HA}-b`;
const APP = { kind: "tcp", address: "203.0.113.11", port: 9090 } as const;
const API = { kind: "tcp", address: "203.0.113.10", port: 8080 } as const;
const WEB = { kind: "tcp", address: "203.0.113.10", port: 80 } as const;
const FLAG = "/run/lab/rs-down/10.10.0.11";

let startedByUs = false;
let dbDir = "";
let directors: DirectorConfig[] = [];

/** Runs on both directors at once; throws on a non-zero exit. */
async function onBoth(command: string): Promise<string[]> {
  const rs = await Promise.all([A, B].map((n) => labExec(n, command, { timeoutMs: 60_000 })));
  rs.forEach((r, i) => {
    if (r.code !== 0) throw new Error(`${[A, B][i]}: ${command}: exit ${r.code}: ${r.stderr}`);
  });
  return rs.map((r) => r.stdout);
}

/** Waits (polling the kernel every 100 ms, in one ssh call) until every line is there. */
async function kernelHolds(name: string, lines: string[], absent: string[] = []): Promise<void> {
  const want = lines.map((l) => `grep -qxF -- '${l}' "$f"`).join(" && ");
  const gone = absent.map((l) => `! grep -qF -- '${l}' "$f"`).join(" && ");
  const test = [want, gone].filter((x) => x !== "").join(" && ") || "true";
  const script = `f=$(mktemp); i=0; while [ $i -lt 300 ]; do ipvsadm-save -n > "$f"; if ${test}; then exit 0; fi; i=$((i+1)); sleep 0.1; done; cat "$f"; exit 1`;
  const r = await labExec(name, script, { timeoutMs: 60_000 });
  expect(r.code, `${name}: kernel lacks ${lines.join(" | ")}:\n${r.stdout}`).toBe(0);
}

/** keepalived's log lines after the mark `n`, waited for (100 ms polls) in one ssh call. */
const logWait = (text: string) =>
  `i=0; until tail -n +$((n+1)) /var/log/keepalived.log | grep -qF -- '${text}'; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done`;

/** A checker flap of 10.10.0.11 in the app service on both: disabled by keepalived, then enabled. */
async function flap(): Promise<void> {
  const member = "[10.10.0.11]:tcp:80 of VS [203.0.113.11]:tcp:9090";
  await onBoth(
    [
      "n=$(wc -l < /var/log/keepalived.log)",
      `touch ${FLAG}`,
      logWait(`Disabling service ${member}`),
      "n=$(wc -l < /var/log/keepalived.log)",
      `rm -f ${FLAG}`,
      logWait(`Enabling service ${member}`),
    ].join("; "),
  );
}

const HELD = [
  "-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 0",
  "-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 5",
  "-a -t 203.0.113.11:9090 -r 10.10.0.13:80 -m -w 2",
  "-A -t 203.0.113.10:80 -s wlc -p 300",
];

async function bothHold(): Promise<void> {
  await Promise.all([A, B].flatMap((n) => [kernelHolds(n, HELD)]));
}

beforeAll(async () => {
  const ha = await ensureHaLab({ name: HA, port: HA_PORT });
  startedByUs = ha.startedByUs;
  directors = ha.directors.map((d) => directorConfigOf(d, { clusterId: "ha" }));
  dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-lasting-"));
  process.env.LVS_CONSOLE_DB = path.join(dbDir, "console.sqlite");
  setConfig(
    configFromObject({
      clusters: [
        { id: "ha", name: "HA pair", directors: directors.map(({ clusterId: _c, ...d }) => d) },
      ],
    }),
  );
  // Back to the lab's own config (an earlier run may have stopped half way).
  const reset: LastingChange[] = [
    { kind: "weight", service: APP, realserver: { address: "10.10.0.11", port: 80 }, weight: 3 },
    { kind: "weight", service: API, realserver: { address: "10.10.0.12", port: 80 }, weight: 2 },
    { kind: "remove-realserver", service: APP, realserver: { address: "10.10.0.13", port: 80 } },
    { kind: "edit-service", service: WEB, changes: { scheduler: "rr" } },
  ];
  for (const change of reset) {
    await applyLasting(directors, change, null).catch((e: unknown) => {
      if (!(e instanceof ConsoleError && e.details.reason === "not-found")) throw e;
    });
  }
}, 300_000);

afterAll(async () => {
  getSshPool().closeAll();
  closeDb();
  setConfig(undefined);
  delete process.env.LVS_CONSOLE_DB;
  if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  if (startedByUs) await stopLab(HA);
});

describe("lasting changes on the keepalived pair", () => {
  const changes: LastingChange[] = [
    { kind: "weight", service: APP, realserver: { address: "10.10.0.11", port: 80 }, weight: 0 },
    { kind: "weight", service: API, realserver: { address: "10.10.0.12", port: 80 }, weight: 5 },
    {
      kind: "add-realserver",
      service: APP,
      realserver: { address: "10.10.0.13", port: 80, weight: 2 },
    },
    { kind: "edit-service", service: WEB, changes: { scheduler: "wlc" } },
  ];

  it("a drain previews the file diff and the steps on both directors, then applies on both", async () => {
    const preview = await previewLasting(directors, changes[0]!);
    expect(preview.map((p) => p.directorId)).toEqual([A, B]);
    for (const p of preview) {
      expect(p.diff).toContain("-        weight 3");
      expect(p.diff).toContain("+        weight 0");
      expect(p.steps).toBe(
        "edit /etc/keepalived/conf.d/app.conf line 11, check the config, reload keepalived, wait for the kernel to match",
      );
      expect(p.commands).toEqual([
        [
          "ipvsadm",
          "-e",
          "-t",
          "203.0.113.11:9090",
          "-r",
          "10.10.0.11:80",
          "-m",
          "-w",
          "0",
          "-x",
          "0",
          "-y",
          "0",
        ],
      ]);
    }
    expect(preview.map((p) => p.previousWeight)).toEqual([3, 3]);
    const versions = Object.fromEntries(preview.map((p) => [p.directorId, p.filesVersion]));
    const started = Date.now();
    const results = await applyLastingChange({
      clusterId: "ha",
      change: changes[0]!,
      expectedFilesVersions: versions,
      user: { name: "tester", remoteAddress: null },
    });
    const total = Date.now() - started;
    for (const r of results) {
      expect(r.status, r.message).toBe("applied");
      console.log(
        `${r.directorId}: lasting drain ${JSON.stringify(r.outcome?.timings)} ms; whole apply ${total} ms`,
      );
    }
    // Applying again is nothing to do on both.
    const again = await applyLasting(directors, changes[0]!, null);
    expect(again.map((r) => r.status)).toEqual(["nothing-to-do", "nothing-to-do"]);
  }, 120_000);

  it("a weight change, a new realserver and a service edit apply on both", async () => {
    // The weight change goes the operator's way: preview, apply with its versions, audit.
    const weight = changes[1]!;
    const seen = await previewLastingChange("ha", weight);
    const results = await applyLastingChange({
      clusterId: "ha",
      change: weight,
      expectedFilesVersions: Object.fromEntries(seen.map((p) => [p.directorId, p.filesVersion])),
      user: { name: "tester", remoteAddress: null },
    });
    expect(results.map((r) => r.status)).toEqual(["applied", "applied"]);
    const entry = listAudit({}).entries[0];
    expect(entry?.action).toBe("lasting.weight");
    expect(entry?.result).toBe("ok");
    expect(JSON.stringify(entry?.details)).toContain("+        weight 5");
    for (const change of changes.slice(2)) {
      const results = await applyLasting(directors, change, null);
      expect(results.map((r) => [r.directorId, r.status])).toEqual([
        [A, "applied"],
        [B, "applied"],
      ]);
    }
    await bothHold();
    const [fa, fb] = await onBoth(
      "cat /etc/keepalived/keepalived.conf /etc/keepalived/conf.d/app.conf",
    );
    for (const f of [fa, fb]) {
      expect(f).toContain("real_server 10.10.0.13 80 {\n        weight 2");
      expect(f).toContain("lb_algo wlc");
    }
  }, 120_000);

  it("holds through a reload, a restart, a checker flap and a failover", async () => {
    await onBoth("lab-keepalived reload");
    await bothHold();
    await onBoth("lab-keepalived restart");
    await bothHold();
    // The flap: down (inhibit_on_failure keeps 0), then up: keepalived puts the CONFIG's weight back.
    await flap();
    await bothHold();
    // Failover: A's keepalived stops (B takes over and keeps its rules), then A comes back.
    const stop = await labExec(A, "lab-keepalived stop");
    expect(stop.code).toBe(0);
    await kernelHolds(B, HELD);
    const start = await labExec(A, "lab-keepalived start");
    expect(start.code).toBe(0);
    await bothHold();
  }, 240_000);

  it("undrain and removing the realserver last too", async () => {
    // Undrain writes back the weight recorded by the drain (3), on both.
    const undrained = await undrainLastingChange({
      clusterId: "ha",
      service: APP,
      realserver: { address: "10.10.0.11", port: 80 },
      user: { name: "tester", remoteAddress: null },
    });
    expect(undrained.map((r) => r.status)).toEqual(["applied", "applied"]);
    const removed = await applyLasting(
      directors,
      { kind: "remove-realserver", service: APP, realserver: { address: "10.10.0.13", port: 80 } },
      null,
    );
    expect(removed.map((r) => r.status)).toEqual(["applied", "applied"]);
    const held = () =>
      Promise.all(
        [A, B].map((n) =>
          kernelHolds(
            n,
            ["-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 3"],
            ["-a -t 203.0.113.11:9090 -r 10.10.0.13:80"],
          ),
        ),
      );
    await onBoth("lab-keepalived reload");
    await held();
    await onBoth("lab-keepalived restart");
    await held();
    await flap();
    await held();
    await labExec(A, "lab-keepalived stop");
    await kernelHolds(B, ["-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 3"]);
    await labExec(A, "lab-keepalived start");
    await held();
  }, 240_000);

  it("a new service is a virtual_server in keepalived's files, and deleting it lasts", async () => {
    const NEW = { kind: "tcp", address: "203.0.113.11", port: 7070 } as const;
    const add: LastingChange = {
      kind: "add-service",
      service: NEW,
      spec: {
        scheduler: "wrr",
        forward: "masq",
        persistence: null,
        realservers: [{ address: "10.10.0.12", port: 80, weight: 4 }],
      },
    };
    // An earlier run may have stopped half way.
    await applyLasting(directors, { kind: "delete-service", service: NEW }, null).catch(
      (e: unknown) => {
        if (!(e instanceof ConsoleError && e.details.reason === "not-found")) throw e;
      },
    );
    const preview = await previewLasting(directors, add);
    for (const p of preview) {
      expect(p.steps).toMatch(
        /^edit \/etc\/keepalived\/conf\.d\/\w+\.conf line \d+, check the config/,
      );
      expect(p.diff).toContain("+virtual_server 203.0.113.11 7070 {");
    }
    const line = "-a -t 203.0.113.11:7070 -r 10.10.0.12:80 -m -w 4";
    expect((await applyLasting(directors, add, null)).map((r) => r.status)).toEqual([
      "applied",
      "applied",
    ]);
    await onBoth("lab-keepalived reload");
    await Promise.all([A, B].map((n) => kernelHolds(n, [line])));
    const del = await applyLasting(directors, { kind: "delete-service", service: NEW }, null);
    expect(del.map((r) => r.status)).toEqual(["applied", "applied"]);
    await onBoth("lab-keepalived restart");
    await Promise.all([A, B].map((n) => kernelHolds(n, [HELD[3]!], ["-A -t 203.0.113.11:7070"])));
  }, 120_000);
});

describe("failures leave the director as it was", () => {
  it("a config that fails keepalived -t is put back byte for byte and never loaded", async () => {
    const file = "/etc/keepalived/conf.d/app.conf";
    const before = (await labExec(A, `cat ${file}`)).stdout;
    const kernelBefore = (await labExec(A, "ipvsadm-save -n")).stdout;
    const outcome = await runTransaction(getSshPool(), directors[0]!, {
      files: [],
      notes: [],
      steps: "",
      tx: {
        mode: "keepalived",
        configPath: "/etc/keepalived/keepalived.conf",
        stamp: txStamp(new Date()),
        verifyTries: 20,
        expect: { present: [], absent: [] },
        files: [
          { path: file, expectedHash: sha256(before), content: `${before}bogus_keyword 1\n` },
        ],
      },
    });
    expect(outcome.result).toBe("check-failed");
    expect(outcome.stderr).toContain("Unknown keyword 'bogus_keyword'");
    expect(outcome.restored).toBe(true);
    expect(outcome.timings.reload).toBeUndefined();
    const after = await labExec(A, `cat ${file}; echo @@; ipvsadm-save -n`);
    expect(after.stdout).toBe(`${before}@@\n${kernelBefore}`);
  }, 60_000);

  it("a file edited by hand between preview and commit is a conflict, and nothing changes", async () => {
    const change: LastingChange = {
      kind: "weight",
      service: API,
      realserver: { address: "10.10.0.13", port: 80 },
      weight: 4,
    };
    const preview = await previewLasting(directors, change);
    const versions = Object.fromEntries(preview.map((p) => [p.directorId, p.filesVersion]));
    await labExec(B, "echo '# edited by hand' >> /etc/keepalived/keepalived.conf");
    const error = await applyLasting(directors, change, versions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsoleError);
    expect((error as ConsoleError).code).toBe("CONFLICT");
    expect((error as ConsoleError).message).toContain(B);
    // The transaction itself also refuses a file whose hash moved, naming it.
    const outcome = await runTransaction(getSshPool(), directors[1]!, preview[1]!.plan);
    expect(outcome.result).toBe("conflict");
    expect(outcome.conflict?.path).toBe("/etc/keepalived/keepalived.conf");
    await Promise.all(
      [A, B].map((n) => kernelHolds(n, ["-a -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 1"])),
    );
  }, 60_000);
});

describe("a rules-file director", () => {
  it("an ordinary change previews the file's diff, saves the running rules, and a boot keeps it", async () => {
    const { applyChange, previewChange } = await import("@/server/directors/changes");
    const { previewRulesFiles } = await import("@/server/directors/rules-persist");
    const w = 60 + (Date.now() % 30);
    const change = {
      kind: "setWeight",
      service: { kind: "tcp", address: "203.0.113.11", port: 443 },
      realserver: { address: "10.10.0.13", port: 443 },
      weight: w,
    } as const;
    const line = `-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w ${w}`;
    const [preview, files] = await Promise.all([
      previewChange("ha", change),
      previewRulesFiles("ha", change),
    ]);
    expect(preview.warnings.map((x) => x.code)).toContain("rules-file-save");
    expect(files.map((f) => f.path)).toEqual(["/etc/ipvsadm.rules", "/etc/ipvsadm.rules"]);
    for (const f of files) expect(f.diff).toContain(`+${line}`);
    // A hand edit of B's file after the preview: B's file is not saved (conflict), A's is.
    await labExec(B, "echo '# edited by hand' >> /etc/ipvsadm.rules");
    const bBefore = (await labExec(B, "cat /etc/ipvsadm.rules")).stdout;
    const result = await applyChange({
      clusterId: "ha",
      change,
      expectedVersions: preview.versions,
      user: { name: "tester", remoteAddress: null },
      rulesFile: "save",
      expectedRulesFiles: Object.fromEntries(files.map((f) => [f.directorId, f.fileHash])),
    });
    expect(result.ok).toBe(true);
    expect(result.rulesFiles.map((r) => [r.directorId, r.result])).toEqual([
      [A, "saved"],
      [B, "conflict"],
    ]);
    // The files' outcome has its audit entry, naming the change it followed.
    const [filesAudit] = listAudit({ limit: 1 }).entries;
    expect(filesAudit?.action).toBe("rules.save-after-change");
    expect(filesAudit?.result).toBe("conflict");
    expect(filesAudit?.summary).toContain(`after change #${result.auditId}`);
    expect((await labExec(B, "cat /etc/ipvsadm.rules")).stdout).toBe(bBefore);
    const boot = await labExec(A, "ipvsadm -C; ipvsadm -R < /etc/ipvsadm.rules; ipvsadm-save -n");
    expect(boot.stdout).toContain(line);
    await labExec(A, "lab-keepalived restart");
    await kernelHolds(A, ["-A -t 203.0.113.11:9090 -s rr", line]);
    await labExec(B, "sed -i '/# edited by hand/d' /etc/ipvsadm.rules");
  }, 90_000);

  it("saves a change to /etc/ipvsadm.rules, which a simulated boot loads back", async () => {
    const d = directors[0]!;
    const w = 2 + (Date.now() % 50);
    const line = `-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w ${w}`;
    const add = await labExec(A, `ipvsadm -e -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w ${w}`);
    expect(add.code).toBe(0);
    const { preview, outcome } = await saveRunningRules(d);
    expect(preview.path).toBe("/etc/ipvsadm.rules");
    expect(preview.file?.after).toContain(line);
    expect(preview.file?.after).not.toContain("9090");
    expect(outcome?.result).toBe("ok");
    const boot = await labExec(
      A,
      "ipvsadm -C; ipvsadm -R < /etc/ipvsadm.rules; ipvsadm-save -n; ls /etc/ipvsadm.rules.lvs-console.*",
    );
    expect(boot.stdout).toContain(line);
    expect(boot.stdout).toMatch(/ipvsadm\.rules\.lvs-console\.\d{8}T\d{6}Z/);
    // keepalived programs its own services again when it starts.
    await labExec(A, "lab-keepalived restart");
    await kernelHolds(A, ["-A -t 203.0.113.11:9090 -s rr"]);
  }, 60_000);
});
