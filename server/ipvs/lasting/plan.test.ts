/**
 * Planning lasting changes on the HA lab's real config (captured from hal-a into
 * __fixtures__/ha-a): the edit, the steps a preview shows, the kernel expectation, the
 * hashes the transaction checks, and the rules file text.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseKeepalivedConfig } from "@/server/ipvs/keepalived";
import { expectation, ownerFilesVersion, planLasting, stepsText } from "./plan";
import { rulesDiffer, rulesFileText } from "./rules-save";
import { sha256 } from "./tx-script";

const ROOT = fileURLToPath(new URL("./__fixtures__/ha-a/", import.meta.url));
const MAIN = "/etc/keepalived/keepalived.conf";
const APP_FILE = "/etc/keepalived/conf.d/app.conf";
const APP = { kind: "tcp", address: "203.0.113.11", port: 9090 } as const;
const RS = { address: "10.10.0.11", port: 80 };

function files(): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const name of readdirSync(`${ROOT}${rel}`)) {
      const p = `${rel}${name}`;
      if (statSync(`${ROOT}${p}`).isDirectory()) visit(`${p}/`);
      else out[`/etc/keepalived/${p}`] = readFileSync(`${ROOT}${p}`, "utf8");
    }
  };
  visit("");
  return out;
}

const config = () => parseKeepalivedConfig(MAIN, files());
const at = new Date("2026-12-01T22:15:01Z");

describe("planLasting", () => {
  it("a drain edits one line of the included file, hashed as read", () => {
    const r = planLasting(
      config(),
      { kind: "weight", service: APP, realserver: RS, weight: 0 },
      {
        configPath: MAIN,
        at,
      },
    );
    if (!r.ok) throw r.error;
    expect(r.plan.steps).toBe(
      `edit ${APP_FILE} line 11, check the config, reload keepalived, wait for the kernel to match`,
    );
    expect(r.plan.files.map((f) => f.changes)).toEqual([
      [
        {
          file: APP_FILE,
          oldStart: 11,
          oldLines: ["        weight 3"],
          newStart: 11,
          newLines: ["        weight 0"],
        },
      ],
    ]);
    expect(r.plan.tx.files).toEqual([
      {
        path: APP_FILE,
        expectedHash: sha256(files()[APP_FILE] ?? ""),
        content: r.plan.files[0]?.after,
      },
    ]);
    expect(r.plan.tx.stamp).toBe("20261201T221501Z");
    expect(r.plan.tx.expect).toEqual({
      present: ["-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 0"],
      absent: [],
    });
  });

  it("a checker-down member is not expected at its new weight (keepalived holds it at 0)", () => {
    const r = planLasting(
      config(),
      { kind: "weight", service: APP, realserver: RS, weight: 5 },
      {
        configPath: MAIN,
        at,
        checkerDown: () => true,
      },
    );
    if (!r.ok) throw r.error;
    expect(r.plan.tx.expect).toEqual({ present: [], absent: [] });
    expect(r.plan.notes.join(" ")).toContain("checker says it is down");
  });

  it("a weight the config already has is nothing to do", () => {
    const r = planLasting(
      config(),
      { kind: "weight", service: APP, realserver: RS, weight: 3 },
      {
        configPath: MAIN,
        at,
      },
    );
    if (!r.ok) throw r.error;
    expect(r.plan.files).toEqual([]);
    expect(r.plan.steps).toBe("nothing to do: the config already says so");
  });

  it("refuses an unknown member with the editor's reason", () => {
    const r = planLasting(
      config(),
      { kind: "weight", service: APP, realserver: { address: "10.10.0.99", port: 80 }, weight: 1 },
      { configPath: MAIN, at },
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.details).toMatchObject({ reason: "not-found" });
  });

  it("expects a removed member gone and an edited service's scheduler", () => {
    const ctx = { configPath: MAIN, at };
    expect(expectation({ kind: "remove-realserver", service: APP, realserver: RS }, ctx)).toEqual({
      present: [],
      absent: ["-a -t 203.0.113.11:9090 -r 10.10.0.11:80"],
    });
    expect(
      expectation(
        {
          kind: "edit-service",
          service: { kind: "fwm", mark: 1, family: "inet" },
          changes: { scheduler: "rr" },
        },
        ctx,
      ),
    ).toEqual({ present: ["-A -f 1 -s rr"], absent: [] });
  });

  it("the files version moves with any byte of any file", () => {
    const f = files();
    const v = ownerFilesVersion(parseKeepalivedConfig(MAIN, f));
    f[APP_FILE] = `${f[APP_FILE]}# hand edit\n`;
    expect(ownerFilesVersion(parseKeepalivedConfig(MAIN, f))).not.toBe(v);
  });

  it("lists several changed stretches of one file", () => {
    expect(
      stepsText([
        {
          file: "/x",
          before: "",
          after: "",
          changes: [
            { file: "/x", oldStart: 4, oldLines: [], newStart: 4, newLines: ["a"] },
            { file: "/x", oldStart: 9, oldLines: [], newStart: 10, newLines: ["b"] },
          ],
        },
      ]),
    ).toBe("edit /x lines 4, 9, check the config, reload keepalived, wait for the kernel to match");
  });
});

describe("rules file text", () => {
  const save = [
    "-A -t 203.0.113.11:443 -s wlc",
    "-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 7",
    "-A -t 203.0.113.11:9090 -s rr",
    "-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 3",
    "",
  ].join("\n");

  it("keeps what keepalived does not own", () => {
    expect(rulesFileText(save, [APP])).toBe(
      "-A -t 203.0.113.11:443 -s wlc\n-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 7\n",
    );
  });

  it("compares file and kernel ignoring comments and order", () => {
    const wanted = rulesFileText(save, [APP]);
    expect(rulesDiffer(`# saved\n${wanted.split("\n").reverse().join("\n")}`, wanted)).toBe(false);
    expect(rulesDiffer("-A -t 203.0.113.11:443 -s wlc\n", wanted)).toBe(true);
  });
});

describe("add and delete service", () => {
  const NEW = { kind: "tcp", address: "203.0.113.12", port: 8443 } as const;
  it("a new service is a virtual_server block in the file where the others are", () => {
    const r = planLasting(
      config(),
      {
        kind: "add-service",
        service: NEW,
        spec: {
          scheduler: "wrr",
          forward: "masq",
          persistence: null,
          realservers: [{ address: "10.10.0.12", port: 443, weight: 2 }],
        },
      },
      { configPath: MAIN, at },
    );
    if (!r.ok) throw r.error;
    const [f] = r.plan.files;
    expect(f?.after.startsWith(f.before)).toBe(true);
    expect(f?.after.slice(f.before.length)).toContain("virtual_server 203.0.113.12 8443 {");
    expect(r.plan.tx.expect).toEqual({
      present: ["-A -t 203.0.113.12:8443 -s wrr", "-a -t 203.0.113.12:8443 -r 10.10.0.12:443"],
      absent: [],
    });
  });

  it("a deleted service's block goes, and the kernel must lose it and its members", () => {
    const r = planLasting(
      config(),
      { kind: "delete-service", service: APP },
      { configPath: MAIN, at },
    );
    if (!r.ok) throw r.error;
    expect(r.plan.files.map((f) => f.file)).toEqual([APP_FILE]);
    expect(r.plan.files[0]?.after).not.toContain("203.0.113.11 9090");
    expect(r.plan.tx.expect).toEqual({
      present: [],
      absent: ["-A -t 203.0.113.11:9090", "-a -t 203.0.113.11:9090"],
    });
  });
});
