/**
 * The pair kept identical, on the HA lab's captured pair (__fixtures__/pair: both directors'
 * keepalived configs, their rules file and `ipvsadm-save -n`): the diff per service,
 * realserver and virtual_server block, and the plan that makes B like A against B's own
 * files (layout and VRRP settings left alone).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseKeepalivedConfig } from "./keepalived";
import { diffPair, planPairSync, sideVersion, type PairSide } from "./pair-diff";
import { parseSaved } from "./parse/saved";
import { sha256 } from "./lasting/tx-script";
import { syncCommands } from "./sync-commands";

const ROOT = fileURLToPath(new URL("./__fixtures__/pair/", import.meta.url));
const MAIN = "/etc/keepalived/keepalived.conf";
const APP = "/etc/keepalived/conf.d/app.conf";
const FWMARK = "/etc/keepalived/conf.d/fwmark.conf";
const FILES = ["keepalived.conf", "conf.d/app.conf", "conf.d/dns.conf", "conf.d/fwmark.conf"];
const at = new Date("2026-12-02T06:30:00Z");
const ctx = { configPath: MAIN, at };

const read = (side: "a" | "b", rel: string) => readFileSync(`${ROOT}${side}/${rel}`, "utf8");

function files(side: "a" | "b"): Record<string, string> {
  return Object.fromEntries(FILES.map((f) => [`/etc/keepalived/${f}`, read(side, f)]));
}

function side(
  name: "a" | "b",
  opts: {
    edit?: (files: Record<string, string>) => void;
    save?: (text: string) => string;
    keepalived?: boolean;
  } = {},
): PairSide {
  const f = files(name);
  opts.edit?.(f);
  const save = (opts.save ?? ((t) => t))(read(name, "ipvsadm-save.txt"));
  return {
    directorId: `p13-${name}`,
    services: parseSaved(save).services,
    keepalived: opts.keepalived === false ? null : parseKeepalivedConfig(MAIN, f),
  };
}

const replace = (path: string, from: string, to: string) => (f: Record<string, string>) => {
  const text = f[path] ?? "";
  if (!text.includes(from)) throw new Error(`${path} has no ${from}`);
  f[path] = text.replace(from, to);
};

describe("diffPair", () => {
  it("the captured pair is identical: only VRRP settings differ, and they are not compared", () => {
    expect(read("a", "keepalived.conf")).not.toBe(read("b", "keepalived.conf"));
    const d = diffPair(side("a"), side("b"));
    expect(d.identical).toBe(true);
    expect(d.count).toBe(0);
    expect(d.rules).toEqual([]);
    expect(d.blocks.map((b) => `${b.name} ${b.status}`)).toEqual([
      "TCP 203.0.113.10:80 same",
      "TCP 203.0.113.10:8080 same",
      "TCP 203.0.113.11:9090 same",
      "UDP 203.0.113.10:53 same",
      "FWM 1 same",
    ]);
  });

  it("a block in another layout (tabs, braces on their own line, comments) is the same", () => {
    const restyle = (f: Record<string, string>) => {
      f[APP] = `# restyled by hand\n${(f[APP] ?? "")
        .replace(/ {4}/g, "\t")
        .replace(/ \{\n/g, "\n{\n")
        .replace("lb_algo rr", "lb_algo rr   ! round robin")}`;
    };
    const d = diffPair(side("a"), side("b", { edit: restyle }));
    expect(d.identical).toBe(true);
    expect(d.blocks.find((b) => b.name === "TCP 203.0.113.11:9090")?.status).toBe("same");
  });

  it("a weight edited by hand on B: one block differs and one realserver, both ways", () => {
    const b = side("b", {
      edit: replace(APP, "        weight 2", "        weight 4"),
      save: (t) =>
        t.replace(
          "-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w 2",
          "-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w 4",
        ),
    });
    const d = diffPair(side("a"), b);
    expect(d.identical).toBe(false);
    expect(d.count).toBe(2);
    expect(d.rules).toEqual([
      {
        service: "TCP 203.0.113.11:9090",
        realserver: "10.10.0.12:80",
        field: "weight",
        a: "2",
        b: "4",
        text: "TCP 203.0.113.11:9090 10.10.0.12:80: weight 2 on p13-a, 4 on p13-b",
        explained: null,
      },
    ]);
    const block = d.blocks.find((x) => x.status !== "same");
    expect(block?.name).toBe("TCP 203.0.113.11:9090");
    expect(block?.source?.file).toBe(APP);
    expect(block?.target?.text).toContain("weight 4");
  });

  it("a member down by its checker on one side is explained, not counted", () => {
    const b = side("b", {
      save: (t) =>
        t.replace(
          "-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 3",
          "-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 0",
        ),
    });
    b.checkerDown = (_svc, rs) => rs.address === "10.10.0.11";
    const d = diffPair(side("a"), b);
    expect(d.rules).toHaveLength(1);
    expect(d.rules[0]?.explained).toBe("keepalived's checker says it is down on p13-b");
    expect(d.identical).toBe(true);
  });
});

describe("planPairSync", () => {
  it("B like A after a hand edit: one line of B's own app.conf, checked, reloaded, verified", () => {
    const b = side("b", { edit: replace(APP, "        weight 2", "        weight 4") });
    const r = planPairSync(side("a"), b, ctx);
    if (!r.ok) throw r.error;
    const k = r.plan.keepalived;
    expect(k?.files.map((f) => f.changes)).toEqual([
      [
        {
          file: APP,
          oldStart: 19,
          oldLines: ["        weight 4"],
          newStart: 19,
          newLines: ["        weight 2"],
        },
      ],
    ]);
    expect(k?.files[0]?.after).toBe(read("a", "conf.d/app.conf"));
    expect(k?.steps).toBe(
      `edit ${APP} line 19, check the config, reload keepalived, wait for the kernel to match`,
    );
    expect(k?.tx.files).toEqual([
      {
        path: APP,
        expectedHash: sha256(b.keepalived?.files[APP] ?? ""),
        content: read("a", "conf.d/app.conf"),
      },
    ]);
    expect(k?.tx.expect).toEqual({
      present: [
        "-A -t 203.0.113.11:9090 -s rr",
        "-a -t 203.0.113.11:9090 -r 10.10.0.11:80",
        "-a -t 203.0.113.11:9090 -r 10.10.0.12:80",
      ],
      absent: [],
    });
    expect(r.plan.commands).toEqual([]);
    expect(r.plan.changes).toEqual([
      `TCP 203.0.113.11:9090: virtual_server at ${APP}:4 replaced by p13-a's`,
    ]);
    // B's VRRP settings are not touched: its main file is not in the plan.
    expect(k?.files.map((f) => f.file)).toEqual([APP]);
  });

  it("the reverse (A like B) edits A's file the other way", () => {
    const b = side("b", { edit: replace(APP, "        weight 2", "        weight 4") });
    const r = planPairSync(b, side("a"), ctx);
    if (!r.ok) throw r.error;
    expect(r.plan.target).toBe("p13-a");
    expect(r.plan.keepalived?.files[0]?.changes[0]?.newLines).toEqual(["        weight 4"]);
  });

  it("a block only on A is appended to B's file of the same path; one only on B is removed", () => {
    const noFwmark = (f: Record<string, string>) => {
      f[FWMARK] = "! marked traffic\n";
    };
    const add = planPairSync(side("a"), side("b", { edit: noFwmark }), ctx);
    if (!add.ok) throw add.error;
    const fw = add.plan.keepalived?.files[0];
    expect(fw?.file).toBe(FWMARK);
    expect(fw?.after).toBe(
      `! marked traffic\n\n${read("a", "conf.d/fwmark.conf").split("\n").slice(1).join("\n")}`,
    );
    expect(add.plan.keepalived?.tx.expect.present[0]).toBe("-A -f 1 -s wlc");

    const remove = planPairSync(side("a", { edit: noFwmark }), side("b"), ctx);
    if (!remove.ok) throw remove.error;
    expect(remove.plan.keepalived?.files[0]?.after).toBe(
      `${read("b", "conf.d/fwmark.conf").split("\n")[0]}\n`,
    );
    expect(remove.plan.keepalived?.tx.expect).toEqual({ present: [], absent: ["-A -f 1"] });
    expect(remove.plan.changes).toEqual([`FWM 1: virtual_server removed from ${FWMARK}`]);
  });

  it("runtime services (outside keepalived) are matched by ipvsadm commands", () => {
    const extra = (t: string) =>
      `${t}-A -t 203.0.113.12:8443 -s wlc\n-a -t 203.0.113.12:8443 -r 10.10.0.13:443 -m -w 2\n`;
    const r = planPairSync(side("a", { save: extra }), side("b"), ctx);
    if (!r.ok) throw r.error;
    expect(r.plan.keepalived).toBeNull();
    expect(r.plan.commands).toEqual([
      ["ipvsadm", "-A", "-t", "203.0.113.12:8443", "-s", "wlc"],
      ["ipvsadm", "-a", "-t", "203.0.113.12:8443", "-r", "10.10.0.13:443", "-m", "-w", "2"],
    ]);
    const back = planPairSync(side("b"), side("a", { save: extra }), ctx);
    if (!back.ok) throw back.error;
    expect(back.plan.commands).toEqual([["ipvsadm", "-D", "-t", "203.0.113.12:8443"]]);
  });

  it("an identical pair is nothing to do", () => {
    const r = planPairSync(side("a"), side("b"), ctx);
    if (!r.ok) throw r.error;
    expect(r.plan.nothingToDo).toBe(true);
    expect(r.plan.changes).toEqual([]);
  });

  it("refuses when keepalived runs on one director only, naming the other", () => {
    const r = planPairSync(side("a"), side("b", { keepalived: false }), ctx);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("REFUSED");
    expect(r.error.details).toMatchObject({ reason: "owners-differ", directorId: "p13-b" });
  });

  it("refuses to copy a block that takes a value from a $definition", () => {
    const a = side("a", {
      edit: (f) => {
        f[MAIN] = `$ALGO=rr\n${f[MAIN] ?? ""}`;
        replace(APP, "lb_algo rr", "lb_algo $ALGO")(f);
      },
    });
    const r = planPairSync(
      a,
      side("b", { edit: replace(APP, "        weight 2", "        weight 4") }),
      ctx,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.details).toMatchObject({ reason: "uses-definition", directorId: "p13-b" });
  });
});

describe("sideVersion", () => {
  it("moves with a config file and with the kernel, not with nothing", () => {
    const v = sideVersion(side("b"));
    expect(sideVersion(side("b"))).toBe(v);
    expect(sideVersion(side("b", { edit: replace(APP, "delay_loop 2", "delay_loop 3") }))).not.toBe(
      v,
    );
    expect(sideVersion(side("b", { save: (t) => t.replace("-s sh", "-s rr") }))).not.toBe(v);
  });
});

describe("syncCommands", () => {
  it("an edited member is one -e repeating every attribute", () => {
    const current = parseSaved(
      "-A -t 203.0.113.11:443 -s wlc\n-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 1 -x 100\n",
    ).services;
    const wanted = parseSaved(
      "-A -t 203.0.113.11:443 -s rr\n-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 5\n",
    ).services;
    expect(syncCommands(current, wanted).argv).toEqual([
      ["ipvsadm", "-E", "-t", "203.0.113.11:443", "-s", "rr"],
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.11:443",
        "-r",
        "10.10.0.13:443",
        "-m",
        "-w",
        "5",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ]);
  });
});
