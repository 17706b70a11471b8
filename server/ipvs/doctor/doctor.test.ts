import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSaved } from "@/server/ipvs/parse";
import { diagnose, type DoctorService, type Finding } from "./index";
import { parseDoctorOutput } from "./parse";
import { doctorTargets } from "./script";

// Output of DOCTOR_SCRIPT captured from the lab director (UML 7.2) with each lab-fault on.
const fixture = (name: string) =>
  readFileSync(join(__dirname, "__fixtures__", `${name}.txt`), "utf8");
const labServices: DoctorService[] = parseSaved(
  readFileSync(join(__dirname, "..", "__fixtures__", "ipvsadm-Sn.txt"), "utf8"),
).services;

function run(name: string, services: DoctorService[] = labServices): Finding[] {
  const inputs = parseDoctorOutput(fixture(name), doctorTargets(services));
  return diagnose(inputs, services);
}
const codes = (findings: Finding[]) => findings.map((f) => `${f.code} ${f.subject.name}`).sort();

/** What the lab shows with no fault on: two non-NAT members in a NAT service. */
const BASELINE = ["mixed-forwarding 10.10.0.14:443", "mixed-forwarding 10.10.0.15:443"];

describe("the doctor on the lab director", () => {
  it("finds only the lab's mixed members when no fault is on", () => {
    const findings = run("baseline");
    expect(codes(findings)).toEqual(BASELINE);
    expect(findings[0]?.severity).toBe("warn");
    expect(findings[0]?.message).toContain("direct-routing member of TCP 203.0.113.11:443");
    expect(findings[1]?.evidence[0]).toBe("TCP 203.0.113.11:443 -> 10.10.0.15:443 forward Tunnel");
  });

  it("gateway rs2: rs2's clients stay in SYN_RECV though the director reaches it", () => {
    const findings = run("gateway-rs2");
    expect(codes(findings)).toEqual([...BASELINE, "replies-bypass-director 10.10.0.12:80"].sort());
    const f = findings.find((x) => x.code === "replies-bypass-director");
    expect(f?.severity).toBe("error");
    expect(f?.subject).toEqual({
      kind: "realserver",
      name: "10.10.0.12:80",
      address: "10.10.0.12",
      port: 80,
    });
    expect(f?.evidence[0]).toBe(
      "connections to 10.10.0.12:80: 2 SYN_RECV, 13 TIME_WAIT (13 answered)",
    );
    expect(f?.evidence[1]).toBe("the director connects to 10.10.0.12:80 itself: open");
    expect(f?.message).toContain("default gateway is not the director's DIP (10.10.0.1)");
    expect(f?.fix).toEqual({
      where: "realserver",
      summary: expect.stringContaining(
        "make 10.10.0.1 (this director's DIP) the default gateway",
      ) as string,
      commands: ["ip route replace default via 10.10.0.1"],
    });
  });

  it("gateway rs2 repaired: answered connections newer than the SYN_RECV clear the finding", () => {
    const inputs = parseDoctorOutput(fixture("gateway-rs2-repaired"), doctorTargets(labServices));
    const rs2 = inputs.destinations.find((d) => d.address === "10.10.0.12" && d.port === 80);
    expect(rs2?.states.SYN_RECV).toBeGreaterThan(0);
    expect(codes(diagnose(inputs, labServices))).toEqual(BASELINE);
  });

  it("forward: ip_forward 0 is an error with a director fix", () => {
    const f = run("forward-off").find((x) => x.code === "ip-forward-off");
    expect(f?.severity).toBe("error");
    expect(f?.evidence).toEqual(["net.ipv4.ip_forward = 0"]);
    expect(f?.fix).toMatchObject({
      where: "director",
      id: "ip-forward",
      settings: [{ key: "net.ipv4.ip_forward", value: 1 }],
    });
  });

  it("redirects: all, default and br-int are named, lo is not", () => {
    const f = run("redirects-on").find((x) => x.code === "send-redirects-on");
    expect(f?.evidence).toEqual([
      "net.ipv4.conf.all.send_redirects = 1",
      "net.ipv4.conf.default.send_redirects = 1",
      "net.ipv4.conf.br-int.send_redirects = 1",
    ]);
    expect(f?.fix).toMatchObject({
      id: "send-redirects",
      settings: [
        { key: "net.ipv4.conf.all.send_redirects", value: 0 },
        { key: "net.ipv4.conf.default.send_redirects", value: 0 },
        { key: "net.ipv4.conf.br-int.send_redirects", value: 0 },
      ],
    });
  });

  it("client-in-rs-subnet: the client is named, and its SYN_RECV do not blame the realservers", () => {
    const findings = run("client-in-rs-subnet");
    expect(codes(findings)).toEqual(
      [...BASELINE, "client-in-realserver-subnet 10.10.0.200"].sort(),
    );
    const f = findings.find((x) => x.code === "client-in-realserver-subnet");
    expect(f?.subject).toEqual({ kind: "client", name: "10.10.0.200", address: "10.10.0.200" });
    expect(f?.evidence).toEqual([
      "10.10.0.200 -> 10.10.0.11:80: 1 SYN_RECV (subnet 10.10.0.0/24 on br-int)",
      "10.10.0.200 -> 10.10.0.12:80: 2 SYN_RECV (subnet 10.10.0.0/24 on br-int)",
    ]);
    expect(f?.message).toContain("inside 10.10.0.0/24");
  });

  it("rs-down: the director is refused on both of rs3's ports", () => {
    const findings = run("rs-down");
    expect(codes(findings)).toEqual(
      [...BASELINE, "realserver-down 10.10.0.13:443", "realserver-down 10.10.0.13:80"].sort(),
    );
    const f = findings.find(
      (x) => x.code === "realserver-down" && x.subject.name === "10.10.0.13:80",
    );
    expect(f?.severity).toBe("error");
    expect(f?.evidence[0]).toBe(
      "the director connects to 10.10.0.13:80: closed (Connection refused)",
    );
    expect(f?.evidence[1]).toMatch(/^connections to 10\.10\.0\.13:80: \d+ CLOSE/);
  });

  it("a member off every subnet and a VIP taken off the director", () => {
    const services = labServices.map((s) =>
      s.key.kind === "tcp" && s.key.port === 8080
        ? {
            ...s,
            realservers: [
              ...s.realservers,
              { address: "10.20.0.5", port: 80, forward: "masq", weight: 0 },
            ],
          }
        : s,
    );
    const findings = run("no-route-vip-missing", services);
    expect(codes(findings)).toEqual(
      [
        ...BASELINE,
        "no-route-to-realserver 10.20.0.5",
        "realserver-down 10.20.0.5:80",
        "vip-missing 203.0.113.11",
      ].sort(),
    );
    const route = findings.find((x) => x.code === "no-route-to-realserver");
    expect(route?.evidence[0]).toBe(
      "ip route get 10.20.0.5: RTNETLINK answers: Network is unreachable",
    );
    const down = findings.find((x) => x.code === "realserver-down");
    expect(down?.severity).toBe("warn"); // weight 0
    const vip = findings.find((x) => x.code === "vip-missing");
    expect(vip?.severity).toBe("error");
    expect(vip?.message).toContain("TCP 203.0.113.11:443");
  });

  it("a table of 70k entries in 4096 buckets is far beyond its hash size", () => {
    const f = run("conn-table-full").find((x) => x.code === "conn-table-oversized");
    expect(f?.severity).toBe("warn");
    expect(f?.evidence[0]).toBe("IP Virtual Server (size=4096)");
    expect(f?.evidence[1]).toMatch(/^7\d{4} entries \(\d+ persistence templates\)$/);
  });
});

// Captured from the HA lab's pair (keepalived MASTER o15h-a, BACKUP o15h-b) with
// `lab.sh fault --name N --director a|b vip-missing on`: a service 203.0.113.20:80 whose VIP
// no keepalived instance carries (ha-*-ipvsadm-Sn.txt: each director's rules then).
describe("the doctor on a keepalived pair", () => {
  const haServices = (who: "master" | "backup"): DoctorService[] =>
    parseSaved(fixture(`ha-${who}-ipvsadm-Sn`)).services;
  const ha = (who: "master" | "backup", role: "MASTER" | "BACKUP" | null) => {
    const services = haServices(who);
    const inputs = parseDoctorOutput(fixture(`ha-${who}-vip-missing`), doctorTargets(services));
    return diagnose(inputs, services, role);
  };
  const vips = (findings: Finding[]) => findings.filter((f) => f.code === "vip-missing");

  it("the MASTER missing one VIP: an error naming it, the others it holds are fine", () => {
    const found = vips(ha("master", "MASTER"));
    expect(found.map((f) => [f.subject.name, f.severity])).toEqual([["203.0.113.20", "error"]]);
    expect(found[0]?.message).toContain("VRRP MASTER");
    expect(found[0]?.message).toContain("virtual_ipaddress");
    expect(found[0]?.evidence).toEqual([
      "203.0.113.20 is not in ip -o addr",
      "services: TCP 203.0.113.20:80",
      "keepalived VRRP state: MASTER",
    ]);
    // Without the VRRP read, the VIPs it holds still say it is the MASTER.
    expect(vips(ha("master", null)).map((f) => f.severity)).toEqual(["error"]);
  });

  it("the BACKUP holds no VIP: not a finding when keepalived says BACKUP, a note when unknown", () => {
    const findings = ha("backup", "BACKUP");
    expect(vips(findings)).toEqual([]);
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
    const unknown = vips(ha("backup", null));
    expect(unknown.map((f) => f.subject.name)).toEqual([
      "203.0.113.10",
      "203.0.113.11",
      "203.0.113.20",
    ]);
    expect(unknown.every((f) => f.severity === "info")).toBe(true);
  });
});
