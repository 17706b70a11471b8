/**
 * The transaction script under the local /bin/sh, with fake `keepalived` and
 * `ipvsadm-save` on PATH: conflicts, a failing check (files back byte for byte, no reload),
 * a reload that cannot happen (no keepalived), a rules-file write, and the output reader.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scriptCommandLine } from "@/server/ssh/quote";
import {
  parseTxOutput,
  sha256,
  TX_SCRIPT,
  txArgs,
  txStamp,
  type TxPlan,
} from "@/server/ipvs/lasting/tx-script";

let dir = "";
let bin = "";

function fake(name: string, body: string): void {
  fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function run(plan: TxPlan) {
  const args = txArgs(plan);
  args[0] = path.join(dir, "lock");
  const out = execFileSync("/bin/sh", ["-c", scriptCommandLine(TX_SCRIPT, args)], {
    env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` },
  }).toString("utf8");
  return parseTxOutput(out);
}

function plan(files: TxPlan["files"], over: Partial<TxPlan> = {}): TxPlan {
  return {
    mode: "keepalived",
    configPath: path.join(dir, "keepalived.conf"),
    files,
    expect: { present: [], absent: [] },
    verifyTries: 2,
    stamp: txStamp(new Date("2026-12-01T22:15:01.123Z")),
    ...over,
  };
}

const OLD =
  "virtual_server 203.0.113.10 80 {\n    real_server 10.10.0.11 80 {\n        weight 3\n    }\n}\n";
const NEW = OLD.replace("weight 3", "weight 0");

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-tx-"));
  bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(dir, "keepalived.conf"), OLD, { mode: 0o640 });
  fake(
    "ipvsadm-save",
    "printf '%s\\n' '-A -t 203.0.113.10:80 -s rr' '-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 0'",
  );
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the transaction script", () => {
  const conf = () => path.join(dir, "keepalived.conf");

  it("names the file whose hash moved and writes nothing", () => {
    fake("keepalived", "exit 0");
    const out = run(plan([{ path: conf(), expectedHash: sha256("something else"), content: NEW }]));
    expect(out.result).toBe("conflict");
    expect(out.conflict).toEqual({ path: conf(), actualHash: sha256(OLD) });
    expect(fs.readFileSync(conf(), "utf8")).toBe(OLD);
    expect(fs.readdirSync(dir).filter((f) => f.includes("lvs-console"))).toEqual([]);
  });

  it("puts the file back byte for byte when keepalived -t fails, with its stderr, and never reloads", () => {
    fake("keepalived", "echo \"(Line 3) Unknown keyword 'wieght'\" >&2; exit 5");
    const out = run(plan([{ path: conf(), expectedHash: sha256(OLD), content: NEW }]));
    expect(out.result).toBe("check-failed");
    expect(out.stderr).toBe("(Line 3) Unknown keyword 'wieght'");
    expect(out.restored).toBe(true);
    expect(out.written).toEqual([conf()]);
    expect(Object.keys(out.timings)).toEqual(["lock", "edit", "check"]);
    expect(fs.readFileSync(conf(), "utf8")).toBe(OLD);
    expect(fs.statSync(conf()).mode & 0o777).toBe(0o640);
    expect(fs.readFileSync(`${conf()}.lvs-console.20261201T221501Z`, "utf8")).toBe(OLD);
  });

  it("restores when keepalived is not running to reload", () => {
    fake("keepalived", "exit 0");
    const out = run(plan([{ path: conf(), expectedHash: sha256(OLD), content: NEW }]));
    expect(out.result).toBe("reload-failed");
    expect(out.stderr).toContain("keepalived is not running");
    expect(fs.readFileSync(conf(), "utf8")).toBe(OLD);
  });

  it("writes a rules file atomically, keeping its mode, and verifies the kernel", () => {
    const rules = path.join(dir, "ipvsadm.rules");
    fs.writeFileSync(rules, "-A -t 203.0.113.10:80 -s rr\n", { mode: 0o600 });
    const text = "-A -t 203.0.113.10:80 -s rr\n-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 0\n";
    const out = run(
      plan(
        [{ path: rules, expectedHash: sha256("-A -t 203.0.113.10:80 -s rr\n"), content: text }],
        {
          mode: "rules-file",
          expect: {
            present: [
              "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 0",
              "-A -t 203.0.113.10:80 -s rr",
            ],
            absent: ["-a -t 203.0.113.10:80 -r 10.10.0.12:80"],
          },
        },
      ),
    );
    expect(out.result).toBe("ok");
    expect(fs.readFileSync(rules, "utf8")).toBe(text);
    expect(fs.statSync(rules).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".lvs-console"))).toEqual([]);
  });

  it("gives up verifying when the kernel never matches, and puts the file back", () => {
    const rules = path.join(dir, "ipvsadm.rules");
    fs.writeFileSync(rules, "");
    const out = run(
      plan([{ path: rules, expectedHash: sha256(""), content: "x\n" }], {
        mode: "rules-file",
        expect: { present: ["-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 5"], absent: [] },
      }),
    );
    expect(out.result).toBe("verify-timeout");
    expect(out.kernel).toContain("-m -w 0");
    expect(fs.readFileSync(rules, "utf8")).toBe("");
  });
});

describe("parseTxOutput", () => {
  it("calls an output cut short incomplete", () => {
    const out = parseTxOutput(
      "@@lvs-console:tx:9c1d@@ time lock 3\n@@lvs-console:tx:9c1d@@ written /etc/x\n",
    );
    expect(out.result).toBe("incomplete");
    expect(out.written).toEqual(["/etc/x"]);
    expect(out.timings).toEqual({ lock: 3 });
  });
});
