/**
 * Checks of the NAT realservers as the director sees them: its route to each, whether it
 * can connect to each one's port, the states of the clients' connections to each, and the
 * clients themselves. The console has no access to realservers: their fixes are words.
 * Pure.
 */
import { formatEndpoint, formatServiceKey } from "@/server/ipvs/model";
import { subnetOf, type CheckContext, type NatMember } from "./context";
import type { Finding, FindingSubject } from "./types";

function realserver(m: { address: string; port: number }): FindingSubject {
  return { kind: "realserver", name: formatEndpoint(m), address: m.address, port: m.port };
}

/** Replies come back: the states a connection reaches once the realserver has answered. */
const ANSWERED = ["ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT"];

function statesText(states: Record<string, number>): string {
  const parts = Object.entries(states)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([s, n]) => `${n} ${s}`);
  return parts.length ? parts.join(", ") : "none";
}

/**
 * The kernel's fixed TCP state timeouts (ip_vs_proto_tcp.c; ESTABLISHED and FIN_WAIT follow
 * ipvsadm --set, whose defaults these are): an entry's age in its state is its timeout
 * minus its Expires.
 */
const STATE_TIMEOUT: Record<string, number> = {
  ESTABLISHED: 900,
  SYN_RECV: 60,
  FIN_WAIT: 120,
  TIME_WAIT: 120,
  CLOSE_WAIT: 60,
  LAST_ACK: 30,
};

/**
 * Whether a connection to `m` was answered since its newest SYN_RECV (each retransmitted SYN
 * restarts that entry's timer; Expires has whole seconds, so the same second counts): then
 * replies come back now, and the SYN_RECV left are from before a repair. A realserver whose
 * replies never come back has no answered connection at all.
 */
function answeredSinceNewestSynRecv(ctx: CheckContext, m: NatMember): boolean {
  const d = ctx.inputs.destinations.find((x) => x.address === m.address && x.port === m.port);
  if (!d) return false;
  // The newest SYN_RECV of a client outside the realserver subnets (those inside have a
  // finding of their own), when the client lines are complete.
  const outside = ctx.inputs.clients.filter(
    (c) =>
      c.address === m.address &&
      c.port === m.port &&
      c.state === "SYN_RECV" &&
      !subnetOf(ctx, c.client),
  );
  const syn = ctx.inputs.clientsTruncated
    ? d.newestExpires.SYN_RECV
    : outside.length > 0
      ? Math.max(...outside.map((c) => c.newestExpires))
      : undefined;
  if (syn === undefined) return false;
  const synAge = (STATE_TIMEOUT.SYN_RECV ?? 60) - syn;
  return ANSWERED.some((state) => {
    const expires = d.newestExpires[state];
    const timeout = STATE_TIMEOUT[state];
    return expires !== undefined && timeout !== undefined && timeout - expires <= synAge;
  });
}

function statesOf(ctx: CheckContext, m: NatMember): Record<string, number> {
  const d = ctx.inputs.destinations.find((x) => x.address === m.address && x.port === m.port);
  const states = { ...(d?.states ?? {}) };
  // SYN_RECV from clients inside a realserver subnet are explained by that finding.
  for (const c of ctx.inputs.clients) {
    if (c.address !== m.address || c.port !== m.port || c.state !== "SYN_RECV") continue;
    if (!subnetOf(ctx, c.client)) continue;
    states.SYN_RECV = Math.max(0, (states.SYN_RECV ?? 0) - c.count);
    if (states.SYN_RECV === 0) delete states.SYN_RECV;
  }
  return states;
}

function lookupText(ctx: CheckContext, address: string): string | null {
  const r = ctx.inputs.routeLookups.find((l) => l.address === address);
  return r ? `ip route get ${address}: ${r.raw}` : null;
}

export function repliesBypassDirector(ctx: CheckContext): Finding[] {
  const probes = ctx.inputs.probes;
  if (!probes) return [];
  const findings: Finding[] = [];
  for (const m of ctx.natMembers) {
    if (!m.tcp) continue;
    const probe = probes.find((p) => p.address === m.address && p.port === m.port);
    if (probe?.outcome !== "open") continue;
    const states = statesOf(ctx, m);
    const synRecv = states.SYN_RECV ?? 0;
    const established = states.ESTABLISHED ?? 0;
    if (synRecv === 0) continue;
    if (!(established === 0 || (synRecv >= 3 && synRecv > established))) continue;
    if (answeredSinceNewestSynRecv(ctx, m)) continue;
    const route = ctx.inputs.routeLookups.find((l) => l.address === m.address);
    const dip = route?.src ?? subnetOf(ctx, m.address)?.dip ?? null;
    const answered = ANSWERED.reduce((n, s) => n + (states[s] ?? 0), 0);
    findings.push({
      code: "replies-bypass-director",
      severity: "error",
      subject: realserver(m),
      message: `Clients' connections to ${formatEndpoint(m)} stay in SYN_RECV (${synRecv} now, ${established} established), yet the director itself connects to that port fine: the realserver answers, but its replies do not come back through this director. In NAT mode the reply must pass the director to get the VIP as its source again; sent another way it reaches the client from the realserver's own address, and the client drops it. Almost always the realserver's default gateway is not the director's DIP${dip ? ` (${dip})` : ""}.`,
      evidence: [
        `connections to ${formatEndpoint(m)}: ${statesText(states)} (${answered} answered)`,
        `the director connects to ${formatEndpoint(m)} itself: open`,
        ...(lookupText(ctx, m.address) ? [lookupText(ctx, m.address) ?? ""] : []),
        `serves in ${m.services.join(", ")}`,
      ],
      fix: {
        where: "realserver",
        summary: dip
          ? `On ${m.address}, make ${dip} (this director's DIP) the default gateway, and make it permanent in its network configuration.`
          : `On ${m.address}, make this director's address on its subnet the default gateway.`,
        commands: dip ? [`ip route replace default via ${dip}`] : [],
      },
    });
  }
  return findings;
}

export function realserverDown(ctx: CheckContext): Finding[] {
  const probes = ctx.inputs.probes;
  if (!probes) return [];
  const findings: Finding[] = [];
  for (const m of ctx.natMembers) {
    const probe = probes.find((p) => p.address === m.address && p.port === m.port);
    if (!probe || probe.outcome === "open") continue;
    const states = statesOf(ctx, m);
    const how =
      probe.outcome === "timeout"
        ? "gets no answer at all (a firewall dropping, or the host is off)"
        : `is refused (${probe.reason ?? "connect failed"})`;
    findings.push({
      code: "realserver-down",
      severity: m.weight > 0 ? "error" : "warn",
      subject: realserver(m),
      message: `The director cannot connect to ${formatEndpoint(m)} itself: the attempt ${how}. IPVS ${m.weight > 0 ? `still sends it new clients (weight ${m.weight}), and their connections fail` : "sends it no new clients (weight 0), but it is still a member"}. This is not a routing problem of the replies: nothing reachable listens there.`,
      evidence: [
        `the director connects to ${formatEndpoint(m)}: ${probe.outcome}${probe.reason ? ` (${probe.reason})` : ""}`,
        `connections to ${formatEndpoint(m)}: ${statesText(states)}`,
        `serves in ${m.services.join(", ")} (weight ${m.weight})`,
      ],
      fix: {
        where: "realserver",
        summary: `On ${m.address}, start the service on port ${m.port} (or let the director's address through its firewall); until then set its weight to 0 here so no new clients are sent to it.`,
        commands: [],
      },
    });
  }
  return findings;
}

export function clientInRealserverSubnet(ctx: CheckContext): Finding[] {
  const byClient = new Map<string, string[]>();
  for (const c of ctx.inputs.clients) {
    if (ctx.ownAddresses.has(c.client)) continue;
    const subnet = subnetOf(ctx, c.client);
    if (!subnet) continue;
    const lines = byClient.get(c.client) ?? [];
    lines.push(
      `${c.client} -> ${formatEndpoint(c)}: ${c.count} ${c.state} (subnet ${subnet.network} on ${subnet.ifname})`,
    );
    byClient.set(c.client, lines);
  }
  const findings: Finding[] = [];
  for (const [client, evidence] of [...byClient].sort(([a], [b]) => (a < b ? -1 : 1))) {
    evidence.sort();
    const subnet = subnetOf(ctx, client);
    findings.push({
      code: "client-in-realserver-subnet",
      severity: "error",
      subject: { kind: "client", name: client, address: client },
      message: `Client ${client} talks to a VIP from inside ${subnet?.network ?? "a realserver subnet"}, the subnet the realservers are on. A realserver answers such a client directly over their shared LAN, not through the director, so the reply carries the realserver's own address instead of the VIP and the client drops it. In NAT mode clients must reach the VIPs from outside the realservers' subnets (or be given another path, e.g. through a router that is not on that LAN).`,
      evidence: [
        ...evidence,
        ...(ctx.inputs.clientsTruncated ? ["(the connection table was only partly scanned)"] : []),
      ],
    });
  }
  return findings;
}

export function noRouteToRealserver(ctx: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const m of ctx.natMembers) {
    if (seen.has(m.address)) continue;
    seen.add(m.address);
    const route = ctx.inputs.routeLookups.find((l) => l.address === m.address);
    if (!route) continue;
    const subject = { ...realserver(m), name: m.address, port: 0 } as const;
    const connected = subnetOf(ctx, m.address);
    if (route.dev === null) {
      findings.push({
        code: "no-route-to-realserver",
        severity: "error",
        subject,
        message: `The director has no route to the NAT realserver ${m.address} (${route.raw}). IPVS cannot deliver clients to it, and its replies could not come back. NAT realservers belong on a subnet the director is directly connected to, with the director's address there (the DIP) as their gateway.`,
        evidence: [`ip route get ${m.address}: ${route.raw}`, `serves in ${m.services.join(", ")}`],
      });
    } else if (route.via !== null) {
      findings.push({
        code: "no-route-to-realserver",
        severity: "warn",
        subject,
        message: `The NAT realserver ${m.address} is not on a directly connected subnet: the director reaches it through the router ${route.via} (dev ${route.dev}). NAT works that way only if that router sends the realserver's replies back through this director; the classic setup puts realservers on a subnet of the director, with the DIP as their default gateway.`,
        evidence: [`ip route get ${m.address}: ${route.raw}`, `serves in ${m.services.join(", ")}`],
      });
    } else if (connected && route.dev !== connected.ifname) {
      findings.push({
        code: "no-route-to-realserver",
        severity: "warn",
        subject,
        message: `The NAT realserver ${m.address} is inside ${connected.network} on ${connected.ifname}, but the director routes to it out of ${route.dev}: a more specific route sends its traffic the wrong way.`,
        evidence: [
          `ip route get ${m.address}: ${route.raw}`,
          `${connected.network} is on ${connected.ifname}`,
        ],
      });
    }
  }
  return findings;
}

const NEEDS = {
  route:
    "Direct routing (-g) needs the realserver on the same LAN as the director, the VIP on its loopback, and ARP for the VIP suppressed there (arp_ignore=1, arp_announce=2); it answers clients directly, not through the director.",
  tunnel:
    "Tunnelling (-i) needs an IPIP (or GUE/GRE) tunnel interface on the realserver holding the VIP, rp_filter off on it, and a route back to the clients that does not pass the director.",
} as const;

export function mixedForwarding(ctx: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const s of ctx.services) {
    if (!s.realservers.some((r) => r.forward === "masq")) continue;
    for (const r of s.realservers) {
      if (r.forward !== "route" && r.forward !== "tunnel") continue;
      findings.push({
        code: "mixed-forwarding",
        severity: "warn",
        subject: realserver(r),
        message: `${formatEndpoint(r)} is a ${r.forward === "route" ? "direct-routing" : "tunnel"} member of ${formatServiceKey(s.key)}, a service with NAT members. Its clients are handled differently from the NAT members': ${NEEDS[r.forward]} If it was meant to be NAT, edit it with forwarding method masquerading (-m).`,
        evidence: [
          `${formatServiceKey(s.key)} -> ${formatEndpoint(r)} forward ${r.forward === "route" ? "Route" : "Tunnel"}`,
          `NAT members: ${s.realservers
            .filter((x) => x.forward === "masq")
            .map((x) => formatEndpoint(x))
            .join(", ")}`,
        ],
      });
    }
  }
  return findings;
}
