import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSaved } from "@/server/ipvs/parse/saved";
import { parseOwnerOutput } from "./owner-script";
import { ownerInputs, ownerView } from "./owner-view";

// Captured from the HA lab's MASTER (lab.sh up --ha): keepalived 2.2.7, config with
// conf.d/*.conf includes, /etc/ipvsadm.rules loaded at boot, master sync daemon.
const output = readFileSync(new URL("./__fixtures__/owner-read.ha-a.txt", import.meta.url), "utf8");

// The kernel's rules on that director, as ipvsadm -Sn prints them.
const kernelText = `-A -t 203.0.113.10:80 -s rr -p 300
-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1
-a -t 203.0.113.10:80 -r 10.10.0.12:80 -m -w 1
-a -t 203.0.113.10:80 -r 10.10.0.13:80 -m -w 1
-A -t 203.0.113.10:8080 -s wrr
-a -t 203.0.113.10:8080 -r 10.10.0.11:80 -m -w 3
-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 2
-a -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 1
-A -t 203.0.113.11:9090 -s rr
-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 0
-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w 2
-A -u 203.0.113.10:53 -s sh
-a -u 203.0.113.10:53 -r 10.10.0.11:53 -m -w 1
-a -u 203.0.113.10:53 -r 10.10.0.12:53 -m -w 1
-A -f 1 -s wlc
-a -f 1 -r 10.10.0.12:80 -m -w 1
-a -f 1 -r 10.10.0.13:80 -m -w 1
-A -t 203.0.113.11:443 -s wlc
-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 1
-A -t 198.51.100.7:80 -s rr
-a -t 198.51.100.7:80 -r 10.10.0.13:80 -m -w 1
`;

describe("parseOwnerOutput on the HA lab MASTER's owner read", () => {
  const raw = parseOwnerOutput(output);

  it("finds keepalived, its command line config and every included file", () => {
    expect(raw.keepalived.pid).toBe(842);
    expect(raw.keepalived.configPath).toBe("/etc/keepalived/keepalived.conf");
    expect(raw.keepalived.version).toBe("Keepalived v2.2.7 (01/16,2022)");
    expect(Object.keys(raw.keepalived.files)).toEqual([
      "/etc/keepalived/keepalived.conf",
      "/etc/keepalived/conf.d/app.conf",
      "/etc/keepalived/conf.d/dns.conf",
      "/etc/keepalived/conf.d/fwmark.conf",
    ]);
    expect(raw.keepalived.files["/etc/keepalived/keepalived.conf"]).toMatch(
      /^! Configuration File for keepalived\n[\s\S]*include \/etc\/keepalived\/conf\.d\/\*\.conf\n$/,
    );
    expect(raw.keepalived.missing).toEqual([]);
    expect(raw.keepalived.cut).toEqual([]);
  });

  it("reads the SIGUSR1 dumps, the rules files and the sync daemon", () => {
    expect(raw.keepalived.dumpWaits).toBe(1);
    expect(raw.keepalived.vrrpData).toContain(" VRRP Instance = VI_PUB");
    expect(raw.keepalived.checkData).toContain(" VS VIP = 203.0.113.11, VPORT = 9090");
    expect(Object.keys(raw.rulesFiles).sort()).toEqual([
      "/etc/default/ipvsadm",
      "/etc/ipvsadm.rules",
    ]);
    expect(raw.rulesFiles["/etc/ipvsadm.rules"]).toBe(
      "# ipvsadm-save -n: legacy TLS pass-through, not managed by keepalived\n-A -t 203.0.113.11:443 -s wlc\n-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 1\n",
    );
    expect(raw.daemon).toContain("master sync daemon (mcast=br-int, syncid=51");
  });

  it("drops the dumps when keepalived is not running (they are an earlier run's)", () => {
    const stopped = output.replace(/^@@lvs-console:owner:5b7e@@ pid\n842\n/m, "");
    const r = parseOwnerOutput(stopped);
    expect(r.keepalived.pid).toBeNull();
    expect(r.keepalived.vrrpData).toBeNull();
    expect(r.keepalived.checkData).toBeNull();
  });
});

describe("ownerView: owner and drift per service and realserver", () => {
  const view = ownerView(ownerInputs(parseOwnerOutput(output), 1000, 42), parseSaved(kernelText));

  it("says keepalived owns the director and that it is the MASTER", () => {
    expect(view.summary).toEqual({
      kind: "keepalived",
      label: "keepalived v2.2.7 at /etc/keepalived/keepalived.conf",
    });
    expect(view.role).toBe("MASTER");
    expect(view.vrrp.map((v) => [v.name, v.state])).toEqual([
      ["VI_PUB", "MASTER"],
      ["VI_INT", "MASTER"],
    ]);
    expect(view.syncDaemon.map((d) => d.role)).toEqual(["master"]);
    expect(view.rulesFile).toMatchObject({ path: "/etc/ipvsadm.rules", bootLoads: true });
  });

  it("names the owner of each service: keepalived at file:line, the rules file, runtime only", () => {
    const owners = view.services.map((s) => [
      s.key.kind === "fwm" ? `fwm ${s.key.mark}` : `${s.key.address}:${s.key.port}`,
      s.owner,
    ]);
    expect(owners).toContainEqual([
      "203.0.113.11:9090",
      { kind: "keepalived", file: "/etc/keepalived/conf.d/app.conf", line: 4 },
    ]);
    expect(owners).toContainEqual([
      "203.0.113.11:443",
      { kind: "rules-file", path: "/etc/ipvsadm.rules" },
    ]);
    expect(owners).toContainEqual(["198.51.100.7:80", { kind: "runtime" }]);
  });

  it("reports a runtime drain of a keepalived realserver as drift keepalived will undo", () => {
    const app = view.services.find((s) => s.key.kind === "tcp" && s.key.port === 9090);
    const rs = app?.realservers.find((r) => r.address === "10.10.0.11");
    expect(rs?.drift.map((d) => d.message)).toEqual([
      "keepalived: weight 3, kernel 0: drained at runtime; keepalived puts 3 back when its checker recovers or it restarts",
    ]);
    expect(rs?.checker).toBe("up");
    expect(rs?.undo).toBe(
      "runtime only: keepalived will put weight 3 back when its checker recovers or it restarts",
    );
    // The drain and the runtime-only service: the two things keepalived does not explain.
    expect(view.driftCount).toBe(2);
  });
});
