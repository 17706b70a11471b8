import { describe, expect, it } from "vitest";
import { parseSysctls } from "./sysctls";
import { fixture, parseErrorOf } from "@/test/support/parse";

describe("parseSysctls", () => {
  it("reads grep -r . /proc/sys/net/ipv4/vs/, vectors included", () => {
    expect(parseSysctls(fixture("sysctl-net-ipv4-vs.txt"))).toEqual({
      am_droprate: [10],
      amemthresh: [1024],
      backup_only: [0],
      cache_bypass: [0],
      conn_reuse_mode: [1],
      conntrack: [0],
      debug_level: [0],
      drop_entry: [0],
      drop_packet: [0],
      expire_nodest_conn: [0],
      expire_quiescent_template: [0],
      ignore_tunneled: [0],
      lblc_expiration: [86400],
      lblcr_expiration: [86400],
      nat_icmp_send: [0],
      pmtu_disc: [1],
      run_estimation: [1],
      schedule_icmp: [0],
      secure_tcp: [0],
      sloppy_sctp: [0],
      sloppy_tcp: [0],
      snat_reroute: [1],
      sync_persist_mode: [0],
      sync_ports: [1],
      sync_qlen_max: [3847],
      sync_refresh_period: [0],
      sync_retries: [0],
      sync_sock_size: [0],
      sync_threshold: [3, 50],
      sync_version: [1],
    });
  });

  it("reads sysctl net.ipv4.vs style lines, CRLF and negative values", () => {
    const text =
      "net.ipv4.vs.expire_quiescent_template = 1\r\n" +
      "net.ipv4.vs.sync_threshold = 3\t50\r\n" +
      "net.ipv4.vs.est_nice = -5\r\n";
    expect(parseSysctls(text)).toEqual({
      expire_quiescent_template: [1],
      sync_threshold: [3, 50],
      est_nice: [-5],
    });
  });

  it("skips est_cpulist (Linux 6.2+), whose value is a CPU list", () => {
    const text = "/proc/sys/net/ipv4/vs/est_cpulist:0-3\n/proc/sys/net/ipv4/vs/sloppy_tcp:1\n";
    expect(parseSysctls(text)).toEqual({ sloppy_tcp: [1] });
  });

  it.each([
    ["an empty output", "", 1, ""],
    ["a garbage line", "/proc/sys/net/ipv4/vs/sloppy_tcp:1\ngarbage", 2, "garbage"],
    [
      "a path outside net.ipv4.vs",
      "/proc/sys/net/ipv4/ip_forward:1",
      1,
      "/proc/sys/net/ipv4/ip_forward:1",
    ],
    [
      "a non-numeric value",
      "/proc/sys/net/ipv4/vs/sloppy_tcp:yes",
      1,
      "/proc/sys/net/ipv4/vs/sloppy_tcp:yes",
    ],
    ["an empty value", "net.ipv4.vs.sloppy_tcp = ", 1, "net.ipv4.vs.sloppy_tcp = "],
    [
      "a name given twice",
      "net.ipv4.vs.sloppy_tcp = 1\nnet.ipv4.vs.sloppy_tcp = 0",
      2,
      "net.ipv4.vs.sloppy_tcp = 0",
    ],
  ])("refuses %s", (_name, text, lineNumber, line) => {
    expect(parseErrorOf(() => parseSysctls(text))).toMatchObject({
      code: "PARSE_ERROR",
      source: "net.ipv4.vs sysctls",
      lineNumber,
      line,
    });
  });
});
