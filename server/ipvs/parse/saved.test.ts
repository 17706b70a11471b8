import { describe, expect, it } from "vitest";
import { type ForwardMethod, type RealserverRule } from "@/server/ipvs/model";
import { parseSaved } from "./saved";
import { fixture, parseErrorOf } from "@/test/support/parse";

function member(
  address: string,
  port: number,
  forward: ForwardMethod,
  weight: number,
): RealserverRule {
  return { address, port, forward, weight, upperThreshold: 0, lowerThreshold: 0, tunnel: null };
}

const RULE_DEFAULTS = { persistence: null, ops: false, schedFlags: [], pe: null };

describe("parseSaved on real ipvsadm -S -n output", () => {
  it("reads every service and realserver with all defaults filled", () => {
    expect(parseSaved(fixture("ipvsadm-Sn.txt"))).toEqual({
      services: [
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "203.0.113.10", port: 80 },
          scheduler: "rr",
          persistence: { timeout: 300, netmask: null },
          realservers: [
            member("10.10.0.11", 80, "masq", 1),
            member("10.10.0.12", 80, "masq", 1),
            member("10.10.0.13", 80, "masq", 1),
          ],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "203.0.113.10", port: 8080 },
          scheduler: "wrr",
          realservers: [
            member("10.10.0.11", 80, "masq", 3),
            member("10.10.0.12", 80, "masq", 2),
            member("10.10.0.13", 80, "masq", 0),
          ],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "203.0.113.11", port: 443 },
          scheduler: "wlc",
          persistence: { timeout: 120, netmask: "255.255.255.0" },
          realservers: [
            member("10.10.0.13", 443, "masq", 2),
            member("10.10.0.14", 443, "route", 1),
            {
              ...member("10.10.0.15", 443, "tunnel", 1),
              tunnel: { type: "ipip", port: null, noChecksum: false },
            },
          ],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "udp", address: "203.0.113.10", port: 53 },
          scheduler: "sh",
          schedFlags: ["sh-fallback", "sh-port"],
          realservers: [member("10.10.0.11", 53, "masq", 1), member("10.10.0.12", 53, "masq", 1)],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "udp", address: "203.0.113.10", port: 123 },
          scheduler: "rr",
          ops: true,
          realservers: [member("10.10.0.13", 123, "masq", 1)],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "2001:db8:100::10", port: 80 },
          scheduler: "rr",
          realservers: [
            member("2001:db8:200::11", 80, "masq", 1),
            member("2001:db8:200::12", 80, "masq", 1),
          ],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "fwm", mark: 1, family: "inet" },
          scheduler: "mh",
          schedFlags: ["mh-fallback", "mh-port"],
          realservers: [member("10.10.0.11", 80, "masq", 1), member("10.10.0.12", 80, "masq", 1)],
        },
      ],
    });
  });

  it("reads an empty table as no services (-Sn prints nothing then)", () => {
    expect(parseSaved("")).toEqual({ services: [] });
    expect(parseSaved("\r\n")).toEqual({ services: [] });
  });

  it("accepts Windows line endings", () => {
    const crlf = fixture("ipvsadm-Sn.txt").replaceAll("\n", "\r\n");
    expect(parseSaved(crlf)).toEqual(parseSaved(fixture("ipvsadm-Sn.txt")));
  });
});

describe("parseSaved on options the lab does not use", () => {
  it("fills ipvsadm's defaults: scheduler wlc, -p 300, forwarding -g, weight 1", () => {
    const text = "-A -t 203.0.113.30:80 -p\n-a -t 203.0.113.30:80 -r 10.10.0.11:80\n";
    expect(parseSaved(text)).toEqual({
      services: [
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "203.0.113.30", port: 80 },
          scheduler: "wlc",
          persistence: { timeout: 300, netmask: null },
          realservers: [member("10.10.0.11", 80, "route", 1)],
        },
      ],
    });
  });

  it("reads long options, SCTP, an IPv6 mark service, --pe, thresholds and GUE/GRE tunnels", () => {
    const text = [
      "--add-service --sctp-service 203.0.113.31:3868 --scheduler sed -p 60 -M 255.255.0.0 --pe sip -o",
      "--add-server --sctp-service 203.0.113.31:3868 --real-server 10.10.0.11:3868 --masquerading --weight 4 -x 100 -y 50",
      "-A -f 2 -6 -s rr -p 600 -M 64",
      "-a -f 2 -6 -r [2001:db8:200::11]:80 -g -w 2",
      "-A -t [2001:db8:100::30]:443 -s lc",
      "-a -t [2001:db8:100::30]:443 -r 10.10.0.16:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum",
      "-a -t [2001:db8:100::30]:443 -r 10.10.0.17:443 -i -w 1 --tun-type gre --tun-csum",
    ].join("\n");
    expect(parseSaved(text)).toEqual({
      services: [
        {
          key: { kind: "sctp", address: "203.0.113.31", port: 3868 },
          scheduler: "sed",
          persistence: { timeout: 60, netmask: "255.255.0.0" },
          ops: true,
          schedFlags: [],
          pe: "sip",
          realservers: [
            { ...member("10.10.0.11", 3868, "masq", 4), upperThreshold: 100, lowerThreshold: 50 },
          ],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "fwm", mark: 2, family: "inet6" },
          scheduler: "rr",
          persistence: { timeout: 600, netmask: 64 },
          realservers: [member("2001:db8:200::11", 80, "route", 2)],
        },
        {
          ...RULE_DEFAULTS,
          key: { kind: "tcp", address: "2001:db8:100::30", port: 443 },
          scheduler: "lc",
          realservers: [
            {
              ...member("10.10.0.16", 443, "tunnel", 1),
              tunnel: { type: "gue", port: 6080, noChecksum: true },
            },
            {
              ...member("10.10.0.17", 443, "tunnel", 1),
              tunnel: { type: "gre", port: null, noChecksum: false },
            },
          ],
        },
      ],
    });
  });
});

describe("parseSaved refuses what it does not understand, naming the line", () => {
  const service = "-A -t 203.0.113.10:80 -s rr\n";

  it.each([
    ["a garbage line", service + "garbage here\n", 2, "garbage here"],
    [
      "a realserver before any service",
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1\n",
      1,
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 1",
    ],
    [
      "a realserver of another service",
      service + "-a -t 203.0.113.99:80 -r 10.10.0.11:80 -m\n",
      2,
      "-a -t 203.0.113.99:80 -r 10.10.0.11:80 -m",
    ],
    [
      "a truncated realserver line",
      service + "-a -t 203.0.113.10:80 -r\n",
      2,
      "-a -t 203.0.113.10:80 -r",
    ],
    [
      "a non-numeric weight",
      service + "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w notanumber\n",
      2,
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w notanumber",
    ],
    [
      "a weight above 2147483647",
      service + "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 2147483648\n",
      2,
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -w 2147483648",
    ],
    ["a bad address", "-A -t 300.1.1.1:80 -s rr\n", 1, "-A -t 300.1.1.1:80 -s rr"],
    [
      "an unknown scheduler",
      "-A -t 203.0.113.10:80 -s bogus\n",
      1,
      "-A -t 203.0.113.10:80 -s bogus",
    ],
    [
      "an unknown option",
      "-A -t 203.0.113.10:80 -s rr --bogus\n",
      1,
      "-A -t 203.0.113.10:80 -s rr --bogus",
    ],
    ["an unknown command letter", service + "-Q -t 203.0.113.10:80\n", 2, "-Q -t 203.0.113.10:80"],
    [
      "two forwarding methods",
      service + "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -g\n",
      2,
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m -g",
    ],
    [
      "tunnel options without -i",
      service + "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m --tun-type gre\n",
      2,
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -m --tun-type gre",
    ],
    [
      "remote checksum offload",
      service +
        "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -i --tun-type gue --tun-port 1 --tun-remcsum\n",
      2,
      "-a -t 203.0.113.10:80 -r 10.10.0.11:80 -i --tun-type gue --tun-port 1 --tun-remcsum",
    ],
    [
      "a persistence timeout 0",
      "-A -t 203.0.113.10:80 -s rr -p 0\n",
      1,
      "-A -t 203.0.113.10:80 -s rr -p 0",
    ],
    [
      "-M without -p",
      "-A -t 203.0.113.10:80 -s rr -M 255.255.255.0\n",
      1,
      "-A -t 203.0.113.10:80 -s rr -M 255.255.255.0",
    ],
    ["a service defined twice", service + service, 2, "-A -t 203.0.113.10:80 -s rr"],
    ["a service without an address", "-A -s rr\n", 1, "-A -s rr"],
  ])("%s", (_name, text, lineNumber, line) => {
    expect(parseErrorOf(() => parseSaved(text))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -Sn",
      lineNumber,
      line,
    });
  });
});
