/**
 * Checks of the director itself: its sysctls, its addresses, its NAT rules, its connection
 * table. Pure: each takes the CheckContext and returns findings.
 */
import { addressFamily } from "@/server/ipvs/model";
import type { CheckContext } from "./context";
import { addressBits, parsePrefix, prefixesOverlap } from "./netaddr";
import type { Finding } from "./types";

const DIRECTOR = { kind: "director", name: "director" } as const;

function interfacesOf(sysctls: Record<string, number>, param: string): string[] {
  const names: string[] = [];
  const prefix = "net.ipv4.conf.";
  const suffix = `.${param}`;
  for (const key of Object.keys(sysctls)) {
    if (key.startsWith(prefix) && key.endsWith(suffix))
      names.push(key.slice(prefix.length, -suffix.length));
  }
  return names.filter((n) => n !== "all" && n !== "default").sort();
}

export function ipForwardOff(ctx: CheckContext): Finding[] {
  const s = ctx.inputs.sysctls;
  const v4 = s["net.ipv4.ip_forward"];
  const v6 = s["net.ipv6.conf.all.forwarding"];
  const hasV6 = ctx.vips.some((v) => addressFamily(v.address) === "inet6");
  const settings: Array<{ key: string; value: number }> = [];
  const evidence: string[] = [];
  if (v4 === 0) {
    settings.push({ key: "net.ipv4.ip_forward", value: 1 });
    evidence.push("net.ipv4.ip_forward = 0");
  }
  if (hasV6 && v6 === 0) {
    settings.push({ key: "net.ipv6.conf.all.forwarding", value: 1 });
    evidence.push("net.ipv6.conf.all.forwarding = 0 while IPv6 virtual services exist");
  }
  if (settings.length === 0) return [];
  const which = settings.length === 2 ? "IPv4 and IPv6" : v4 === 0 ? "IPv4" : "IPv6";
  return [
    {
      code: "ip-forward-off",
      severity: "error",
      subject: DIRECTOR,
      message: `${which} forwarding is off on this director. In NAT mode every reply of a realserver passes through the director, which rewrites its source back to the VIP and forwards it to the client: with forwarding off the requests still reach the realservers, but their replies are dropped here and clients see the VIP hang.`,
      evidence,
      fix: {
        where: "director",
        id: "ip-forward",
        summary: `turn ${which} forwarding on (now, and in a sysctl.d file so it survives a reboot)`,
        settings,
      },
    },
  ];
}

export function sendRedirectsOn(ctx: CheckContext): Finding[] {
  const s = ctx.inputs.sysctls;
  // The kernel sends redirects out of an interface when all OR that interface says so;
  // never out of lo, so lo's value does not matter.
  const on = [
    "all",
    "default",
    ...interfacesOf(s, "send_redirects").filter((n) => n !== "lo"),
  ].filter((n) => s[`net.ipv4.conf.${n}.send_redirects`] === 1);
  if (on.length === 0) return [];
  return [
    {
      code: "send-redirects-on",
      severity: "warn",
      subject: DIRECTOR,
      message: `The director may send ICMP redirects (${on.join(", ")}). When a realserver's reply leaves the director through the interface it came in on (a client or a router on the realservers' LAN), the director tells the realserver "send it there directly": the realserver obeys, its replies bypass the director, are never rewritten back to the VIP, and those clients' connections fail. The classic LVS-NAT recipe turns redirects off on all, default and every interface.`,
      evidence: on.map((n) => `net.ipv4.conf.${n}.send_redirects = 1`),
      fix: {
        where: "director",
        id: "send-redirects",
        summary:
          "turn send_redirects off on all, default and every interface (now, and in a sysctl.d file)",
        settings: [...new Set(["all", "default", ...on])].map((n) => ({
          key: `net.ipv4.conf.${n}.send_redirects`,
          value: 0,
        })),
      },
    },
  ];
}

export function rpFilterStrict(ctx: CheckContext): Finding[] {
  const s = ctx.inputs.sysctls;
  const all = s["net.ipv4.conf.all.rp_filter"] ?? 0;
  const carrying = new Set<string>();
  for (const a of ctx.inputs.addresses) {
    if (
      ctx.vips.some((v) => v.address === a.address) ||
      ctx.subnets.some((n) => n.dip === a.address)
    )
      carrying.add(a.ifname);
  }
  const findings: Finding[] = [];
  for (const ifname of [...carrying].sort()) {
    const own = s[`net.ipv4.conf.${ifname}.rp_filter`] ?? 0;
    // The kernel uses the larger of all and the interface's value.
    if (Math.max(all, own) !== 1) continue;
    findings.push({
      code: "rp-filter-strict",
      severity: "info",
      subject: { kind: "interface", name: ifname },
      message: `Strict reverse-path filtering is on for ${ifname}: a packet is dropped when the director would not send its reply back out of the interface it arrived on. A director with one uplink is fine; with several uplinks, asymmetric routes or clients routed in over another path, packets to the VIP vanish before IPVS sees them. Loose mode (2) keeps the anti-spoofing check without that risk.`,
      evidence: [
        `net.ipv4.conf.all.rp_filter = ${all}`,
        `net.ipv4.conf.${ifname}.rp_filter = ${own}`,
      ],
    });
  }
  return findings;
}

/** Every address or prefix written in a rule (both families). */
function ruleAddresses(rule: string): Array<{ network: string; prefixLength: number }> {
  const found: Array<{ network: string; prefixLength: number }> = [];
  for (const m of rule.matchAll(/(?<![\w:.])([0-9a-fA-F:.]*[.:][0-9a-fA-F:.]*)(\/\d+)?/g)) {
    const text = `${m[1] ?? ""}${m[2] ?? ""}`;
    if (!addressBits(m[1] ?? "")) continue;
    const p = parsePrefix(text);
    if (p) found.push(p);
  }
  return found;
}

export function natRulesInterfere(ctx: CheckContext): Finding[] {
  const touched: string[] = [];
  for (const source of ctx.inputs.natSources) {
    for (const rule of source.natRules) {
      const addrs = ruleAddresses(
        rule.replace(/--to(-source|-destination)?\s+\S+|\b(snat|dnat) to \S+/g, ""),
      );
      const ours = [
        ...ctx.vips.map((v) => ({
          network: v.address,
          prefixLength: v.address.includes(":") ? 128 : 32,
        })),
        ...ctx.subnets.map((n) => ({
          network: n.network.split("/")[0] ?? "",
          prefixLength: n.prefixLength,
        })),
      ];
      // A rule that names no address at all rewrites every packet it sees, IPVS's included.
      if (addrs.length === 0 || addrs.some((a) => ours.some((o) => prefixesOverlap(a, o))))
        touched.push(`${source.tool}: ${rule}`);
    }
  }
  if (touched.length === 0) return [];
  return [
    {
      code: "nat-rules-interfere",
      severity: "warn",
      subject: DIRECTOR,
      message: `The director has netfilter NAT rules that can rewrite traffic to the VIPs or the realservers' subnets. IPVS does the NAT of virtual services itself; a MASQUERADE or SNAT on top rewrites the clients' addresses (the realservers then see the director instead of the client, or replies lose their way), and a DNAT of a VIP takes packets away from IPVS. The classic recipe flushes the director's NAT table; keep only rules that clearly exclude the VIPs and the realserver subnets.`,
      evidence: touched,
    },
  ];
}

export function conntrackOff(ctx: CheckContext): Finding[] {
  const value = ctx.inputs.sysctls["net.ipv4.vs.conntrack"];
  if (value !== 0) return [];
  const stateful = ctx.inputs.natSources.flatMap((s) => [
    ...s.natRules.map((r) => `${s.tool}: ${r}`),
    ...s.statefulRules.map((r) => `${s.tool}: ${r}`),
  ]);
  if (stateful.length === 0) return [];
  return [
    {
      code: "ipvs-conntrack-off",
      severity: "warn",
      subject: DIRECTOR,
      message: `net.ipv4.vs.conntrack is 0 while the director has NAT or stateful firewall rules. Then the connections IPVS handles have no connection-tracking entries: rules that match on connection state treat their packets as new or invalid and may drop them. Either set net.ipv4.vs.conntrack to 1 (sysctl -w net.ipv4.vs.conntrack=1, and in a sysctl.d file), or make sure no such rule sees IPVS traffic.`,
      evidence: ["net.ipv4.vs.conntrack = 0", ...stateful.slice(0, 20)],
    },
  ];
}

/** Average entries per hash bucket above which lookups get slow enough to matter. */
export const CHAIN_LENGTH_WARN = 16;

export function connTableOversized(ctx: CheckContext): Finding[] {
  const size = ctx.inputs.connTableSize;
  const count = ctx.inputs.connectionCount;
  if (!size || count <= size * CHAIN_LENGTH_WARN) return [];
  const chain = Math.round(count / size);
  return [
    {
      code: "conn-table-oversized",
      severity: "warn",
      subject: DIRECTOR,
      message: `The IPVS connection table holds ${count} entries in a hash table of only ${size} buckets (about ${chain} per bucket). Every packet looks its connection up by walking a bucket's chain, so the director spends CPU on lookups that a larger table would not need. Raise the ip_vs module's conn_tab_bits (e.g. "options ip_vs conn_tab_bits=18" in /etc/modprobe.d/, applied when the module is loaded again), or shorten the timeouts that keep idle entries.`,
      evidence: [
        `IP Virtual Server (size=${size})`,
        `${count} entries (${ctx.inputs.templateCount} persistence templates)`,
      ],
    },
  ];
}

export function vipMissing(ctx: CheckContext): Finding[] {
  // keepalived's BACKUP holds no VIP: the MASTER does. Its absence here is how a pair works.
  if (ctx.vrrpRole === "BACKUP") return [];
  const missing = ctx.vips.filter((v) => !ctx.ownAddresses.has(v.address));
  if (missing.length === 0) return [];
  const master = ctx.vrrpRole === "MASTER";
  // No VRRP state read, keepalived running, every VIP absent: most likely a BACKUP.
  const backup = !master && ctx.inputs.keepalived && missing.length === ctx.vips.length;
  return missing.map((v) => {
    const add = `ip addr add ${v.address}${v.address.includes(":") ? "/128" : "/32"} dev <public interface>`;
    let message: string;
    if (backup)
      message = `The VIP ${v.address} is on no interface of this director, and neither is any other VIP. keepalived runs here: on the BACKUP of a pair that is normal (the MASTER holds the VIPs). If this director should be the MASTER, clients of ${v.services.join(", ")} get no answer.`;
    else if (master)
      message = `The VIP ${v.address} is on no interface of this director, though keepalived says it is the VRRP MASTER, the one that carries the traffic: packets to ${v.address} reach no director, so ${v.services.join(", ")} cannot answer anywhere. The MASTER adds only the addresses in its virtual_ipaddress blocks: add ${v.address} to the vrrp_instance that carries the other VIPs (on both directors) and reload keepalived.`;
    else
      message = `The VIP ${v.address} is on no interface of this director, so packets to it are not delivered to this host and IPVS never sees them: ${v.services.join(", ")} cannot answer here.${ctx.inputs.keepalived ? " keepalived runs here and holds other VIPs, so it is probably the MASTER: check its virtual_ipaddress list." : ` Add it (e.g. ${add}) and in the network configuration.`}`;
    return {
      code: "vip-missing" as const,
      severity: backup ? ("info" as const) : ("error" as const),
      subject: { kind: "vip" as const, name: v.address, address: v.address },
      message,
      evidence: [
        `${v.address} is not in ip -o addr`,
        `services: ${v.services.join(", ")}`,
        ...(master ? ["keepalived VRRP state: MASTER"] : []),
      ],
    };
  });
}
