import { describe, expect, it } from "vitest";
import { type ServiceKey } from "@/server/ipvs/model";
import { parseKeepalivedConfig } from "./config";
import { addRealserver, removeRealserver, setRealserverWeight } from "./edit-realserver";
import { type EditResult } from "./edit-support";
import { addVirtualServer, deleteVirtualServer, editService } from "./edit-service";
import { programmedServices } from "./program";
import { applyEdits } from "./text";
import { fixtureFiles, MAIN } from "./test-support";

const single = parseKeepalivedConfig(MAIN, fixtureFiles("single"));
const split = parseKeepalivedConfig(MAIN, fixtureFiles("split"));
const HTTP: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 80 };
const WEB: ServiceKey = { kind: "tcp", address: "203.0.113.30", port: 80 };
const API: ServiceKey = { kind: "tcp", address: "203.0.113.30", port: 8080 };

function ok(result: EditResult) {
  if (!result.ok) throw result.error;
  return result;
}

/** The one changed file's text, re-parsed with the other files unchanged. */
function reparse(config: typeof single, result: EditResult) {
  const files = { ...config.files };
  for (const f of ok(result).files) files[f.file] = f.after;
  return parseKeepalivedConfig(config.main, files);
}

describe("round trip", () => {
  it.each(["single", "split", "groups"])("%s: no edit leaves every file byte for byte", (dir) => {
    const files = fixtureFiles(dir);
    const config = parseKeepalivedConfig(MAIN, files);
    for (const [path, text] of Object.entries(config.files)) {
      expect(applyEdits(text, [])).toBe(files[path]);
    }
  });

  it.each(["single", "split", "groups"])(
    "%s: setting every weight to a new value and back restores the text",
    (dir) => {
      const config = parseKeepalivedConfig(MAIN, fixtureFiles(dir));
      let checked = 0;
      for (const service of programmedServices(config).services) {
        for (const member of service.realservers) {
          if (member.realServer.node.tokens.some((t) => t.substituted)) continue;
          const changed = setRealserverWeight(config, service.key, member, member.weight + 7);
          if (!changed.ok) {
            expect(changed.error.details.reason).toBe("uses-definition");
            continue;
          }
          const again = reparse(config, changed);
          const after = programmedServices(again).services.find(
            (s) => JSON.stringify(s.key) === JSON.stringify(service.key),
          );
          expect(
            after?.realservers.find((r) => r.address === member.address && r.port === member.port)
              ?.weight,
          ).toBe(member.weight + 7);
          if (member.weightSource === null) continue;
          const back = setRealserverWeight(again, service.key, member, member.weight);
          for (const f of ok(back).files) expect(f.after).toBe(config.files[f.file]);
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(2);
    },
  );
});

describe("setRealserverWeight", () => {
  it("replaces the number in place and lists the changed line", () => {
    const result = ok(setRealserverWeight(single, HTTP, { address: "10.10.0.12", port: 80 }, 0));
    expect(result.files).toHaveLength(1);
    expect(result.files[0]?.changes).toEqual([
      {
        file: MAIN,
        oldStart: 67,
        oldLines: ["        weight 2    ! the smaller box"],
        newStart: 67,
        newLines: ["        weight 0    ! the smaller box"],
      },
    ]);
  });

  it("inserts a weight line with the block's indentation when there is none", () => {
    const result = ok(
      setRealserverWeight(
        single,
        { kind: "fwm", mark: 7, family: "inet" },
        { address: "10.10.0.12", port: 80 },
        4,
      ),
    );
    expect(result.files[0]?.changes).toEqual([
      { file: MAIN, oldStart: 143, oldLines: [], newStart: 143, newLines: ["        weight 4"] },
    ]);
  });

  it("edits the included file that defines the block, and refuses a weight from a $definition", () => {
    const result = ok(setRealserverWeight(split, API, { address: "10.20.0.22", port: 8080 }, 9));
    expect(result.files.map((f) => [f.file, f.changes])).toEqual([
      [
        "/etc/keepalived/conf.d/20-api.conf",
        [
          {
            file: "/etc/keepalived/conf.d/20-api.conf",
            oldStart: 13,
            oldLines: ["\treal_server 10.20.0.22 8080 { weight 1 }"],
            newStart: 13,
            newLines: ["\treal_server 10.20.0.22 8080 { weight 9 }"],
          },
        ],
      ],
    ]);
    const refused = setRealserverWeight(split, WEB, { address: "10.20.0.11", port: 80 }, 1);
    expect(refused.ok || refused.error.details).toMatchObject({
      reason: "uses-definition",
      line: 11,
    });
  });

  it("inserts into a one-line block and into an empty block", () => {
    const text =
      "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 { TCP_CHECK { } }\n  real_server 10.0.1.2 80 {}\n}\n";
    const config = parseKeepalivedConfig(MAIN, { [MAIN]: text });
    const key: ServiceKey = { kind: "tcp", address: "10.0.0.1", port: 80 };
    const a = reparse(
      config,
      setRealserverWeight(config, key, { address: "10.0.1.1", port: 80 }, 5),
    );
    const b = reparse(a, setRealserverWeight(a, key, { address: "10.0.1.2", port: 80 }, 6));
    expect(b.findings).toEqual([]);
    expect(
      programmedServices(b).services[0]?.realservers.map((r) => [r.weight, r.checkers]),
    ).toEqual([
      [5, ["TCP_CHECK"]],
      [6, []],
    ]);
    expect(b.files[MAIN]).toContain("real_server 10.0.1.2 80 { weight 6}");
  });

  it("refuses an unknown service or member, a bad weight, and a block with findings", () => {
    const broken = parseKeepalivedConfig(
      "/etc/keepalived/unknown-keyword.conf",
      fixtureFiles("broken"),
    );
    const cases: Array<[EditResult, string]> = [
      [
        setRealserverWeight(
          single,
          { kind: "tcp", address: "192.0.2.1", port: 1 },
          { address: "10.0.0.1", port: 1 },
          1,
        ),
        "not-found",
      ],
      [setRealserverWeight(single, HTTP, { address: "10.10.0.99", port: 80 }, 1), "not-found"],
      [setRealserverWeight(single, HTTP, { address: "10.10.0.11", port: 80 }, -1), "invalid-value"],
      [
        setRealserverWeight(
          broken,
          { kind: "tcp", address: "203.0.113.61", port: 80 },
          { address: "10.40.0.21", port: 80 },
          1,
        ),
        "config-has-findings",
      ],
    ];
    expect(cases.map(([r]) => (r.ok ? "ok" : r.error.details.reason))).toEqual(
      cases.map(([, reason]) => reason),
    );
    const refused = cases[3]?.[0];
    expect(refused?.ok === false && refused.error.message).toBe(
      "the config cannot be edited here: unknown keyword wieght in real_server (/etc/keepalived/unknown-keyword.conf:6)",
    );
  });

  it("refuses any edit in a file whose braces do not balance", () => {
    const config = parseKeepalivedConfig(
      "/etc/keepalived/missing-brace.conf",
      fixtureFiles("broken"),
    );
    const r = setRealserverWeight(
      config,
      { kind: "tcp", address: "203.0.113.60", port: 80 },
      { address: "10.40.0.11", port: 80 },
      2,
    );
    expect(r.ok || r.error.details.reason).toBe("config-has-findings");
  });
});

describe("addRealserver and removeRealserver", () => {
  it("copies the sibling's checker block with the address and port changed", () => {
    const result = ok(addRealserver(split, WEB, { address: "10.20.0.13", port: 80, weight: 2 }));
    expect(result.notes).toEqual([
      "copied the TCP_CHECK of real_server 10.20.0.12, with the address changed",
    ]);
    expect(result.files[0]?.changes).toEqual([
      {
        file: "/etc/keepalived/conf.d/10-web.conf",
        oldStart: 28,
        oldLines: [],
        newStart: 28,
        newLines: [
          "",
          "    real_server 10.20.0.13 80",
          "    {",
          "        weight 2",
          "        TCP_CHECK",
          "        {",
          "            connect_port 80",
          "            connect_timeout 3",
          "        }",
          "    }",
        ],
      },
    ]);
    const again = reparse(split, result);
    expect(again.findings).toEqual(split.findings);
    expect(
      programmedServices(again).services[0]?.realservers.map((r) => [r.address, r.weight]),
    ).toEqual([
      ["10.20.0.11", 5],
      ["10.20.0.12", 5],
      ["10.20.0.13", 2],
    ]);
  });

  it("changes the address inside a MISC_CHECK script and keeps misc_dynamic", () => {
    const result = ok(addRealserver(split, API, { address: "10.20.0.23", port: 8080, weight: 1 }));
    const added = reparse(split, result).virtualServers[1]?.realServers[2];
    expect(added?.address).toBe("10.20.0.23");
    const copied = ok(
      addRealserver(
        single,
        { kind: "udp", address: "203.0.113.20", port: 53 },
        { address: "10.10.0.15", port: 53, weight: 1 },
      ),
    );
    expect(copied.files[0]?.changes[0]?.newLines).toContain("            name www.example.test");
    const dns = ok(
      addRealserver(
        reparse(single, copied),
        { kind: "udp", address: "203.0.113.20", port: 53 },
        { address: "10.10.0.16", port: 5353, weight: 1 },
      ),
    );
    expect(dns.files[0]?.after).toContain('misc_path "/usr/local/bin/check-dns 10.10.0.13"');
    const misc = ok(
      addRealserver(
        single,
        { kind: "udp", address: "203.0.113.20", port: 53 },
        { address: "10.10.0.13", port: 5353, weight: 1 },
      ),
    );
    expect(misc.ok).toBe(true);
  });

  it("refuses a member that is already there", () => {
    const r = addRealserver(single, HTTP, { address: "10.10.0.11", port: 80, weight: 1 });
    expect(r.ok || r.error.details.reason).toBe("already-exists");
  });

  it("removes the whole block and nothing else, keeping one blank line", () => {
    const result = ok(removeRealserver(split, WEB, { address: "10.20.0.11", port: 80 }));
    const after = result.files[0]?.after ?? "";
    expect(after).not.toContain("10.20.0.11");
    expect(after).toContain("    protocol TCP\n\n    real_server 10.20.0.12 80\n");
    expect(result.files[0]?.changes[0]).toMatchObject({ oldStart: 9, newLines: [] });
    expect(result.files[0]?.changes[0]?.oldLines).toHaveLength(10);
  });

  it("refuses to remove the last real_server (keepalived would drop the service)", () => {
    const text =
      "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n  }\n}\n";
    const config = parseKeepalivedConfig(MAIN, { [MAIN]: text });
    const r = removeRealserver(
      config,
      { kind: "tcp", address: "10.0.0.1", port: 80 },
      { address: "10.0.1.1", port: 80 },
    );
    expect(r.ok || r.error.details.reason).toBe("last-realserver");
  });
});

describe("editService, addVirtualServer, deleteVirtualServer", () => {
  it("changes settings in place (lvs_sched alias kept) and adds the missing ones after the last setting", () => {
    const https: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 443 };
    const result = ok(editService(single, https, { scheduler: "rr", forward: "route" }));
    expect(result.files[0]?.changes.map((c) => [c.oldLines, c.newLines])).toEqual([
      [
        ["    lvs_sched wlc", "    lvs_method NAT"],
        ["    lvs_sched rr", "    lvs_method DR"],
      ],
    ]);
    const persistent = ok(
      editService(single, HTTP, { persistence: { timeout: 120, netmask: null }, protocol: "tcp" }),
    );
    expect(persistent.files[0]?.changes).toEqual([
      {
        file: MAIN,
        oldStart: 53,
        oldLines: [],
        newStart: 53,
        newLines: ["    persistence_timeout 120"],
      },
    ]);
    expect(programmedServices(reparse(single, persistent)).services[0]?.persistence).toEqual({
      timeout: 120,
      netmask: null,
    });
  });

  it("removes persistence with its granularity", () => {
    const https: ServiceKey = { kind: "tcp", address: "203.0.113.10", port: 443 };
    const result = ok(editService(single, https, { persistence: null }));
    expect(result.files[0]?.changes.map((c) => c.oldLines)).toEqual([
      ["    persistence_timeout 600", "    persistence_granularity 255.255.255.0"],
    ]);
    expect(programmedServices(reparse(single, result)).services[1]?.persistence).toBeNull();
  });

  it("refuses a protocol for a fwmark service", () => {
    const r = editService(single, { kind: "fwm", mark: 7, family: "inet" }, { protocol: "udp" });
    expect(r.ok || r.error.details.reason).toBe("invalid-value");
  });

  it("appends a virtual_server in the file's style", () => {
    const spec = {
      key: { kind: "tcp", address: "203.0.113.77", port: 8443 } as const,
      scheduler: "wlc" as const,
      forward: "masq" as const,
      persistence: { timeout: 60, netmask: null },
      realservers: [{ address: "10.20.0.31", port: 8443, weight: 2 }],
    };
    const result = ok(addVirtualServer(split, spec, "/etc/keepalived/conf.d/10-web.conf"));
    const after = result.files[0]?.after ?? "";
    expect(after.startsWith(split.files["/etc/keepalived/conf.d/10-web.conf"] ?? "-")).toBe(true);
    expect(after).toContain("\nvirtual_server 203.0.113.77 8443\n{\n    delay_loop 6\n");
    const services = programmedServices(reparse(split, result)).services;
    expect(services.map((s) => [s.key, s.source.file])).toContainEqual([
      spec.key,
      "/etc/keepalived/conf.d/10-web.conf",
    ]);
    const again = addVirtualServer(reparse(split, result), spec);
    expect(again.ok || again.error.details.reason).toBe("already-exists");
  });

  it("deletes a virtual_server block and leaves the rest byte for byte", () => {
    const result = ok(
      deleteVirtualServer(single, { kind: "udp", address: "203.0.113.20", port: 53 }),
    );
    const before = single.files[MAIN] ?? "";
    const after = result.files[0]?.after ?? "";
    expect(after).not.toContain("203.0.113.20 53");
    expect(
      before.startsWith(after.slice(0, before.indexOf("virtual_server 203.0.113.20 53"))),
    ).toBe(true);
    expect(programmedServices(reparse(single, result)).services).toHaveLength(3);
  });
});

describe("files other than the main one, and CRLF", () => {
  const files = {
    [MAIN]: "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  include rs/*.conf\n}\n",
    "/etc/keepalived/rs/a.conf":
      "real_server 10.0.1.1 80 {\n  weight 2\n  TCP_CHECK {\n    connect_ip 10.0.1.1\n  }\n}\n",
  };
  const key: ServiceKey = { kind: "tcp", address: "10.0.0.1", port: 80 };

  it("edits and copies real_servers where an include inside the block put them", () => {
    const config = parseKeepalivedConfig(MAIN, files);
    const weight = ok(setRealserverWeight(config, key, { address: "10.0.1.1", port: 80 }, 7));
    expect(weight.files.map((f) => f.file)).toEqual(["/etc/keepalived/rs/a.conf"]);
    const added = ok(addRealserver(config, key, { address: "10.0.1.2", port: 80, weight: 1 }));
    expect(added.files[0]?.file).toBe("/etc/keepalived/rs/a.conf");
    expect(added.files[0]?.changes[0]?.newLines).toEqual([
      "real_server 10.0.1.2 80 {",
      "  weight 1",
      "  TCP_CHECK {",
      "    connect_ip 10.0.1.2",
      "  }",
      "}",
    ]);
  });

  it("keeps CRLF line ends in the lines it adds", () => {
    const crlf = Object.fromEntries(
      Object.entries(files).map(([p, t]) => [p, t.replace(/\n/g, "\r\n")]),
    );
    const config = parseKeepalivedConfig(MAIN, crlf);
    expect(config.findings).toEqual([]);
    const result = ok(editService(config, key, { scheduler: "rr" }));
    const after = result.files[0]?.after ?? "";
    expect(after).toBe(
      "virtual_server 10.0.0.1 80 {\r\n  protocol TCP\r\n  lb_algo rr\r\n  include rs/*.conf\r\n}\r\n",
    );
  });
});
