/**
 * What every check needs besides the inputs: the director's services (from its snapshot),
 * with the NAT realservers, the VIPs and the subnets the realservers are on worked out once.
 * Pure.
 */
import { formatEndpoint, formatServiceKey, type ServiceKey } from "@/server/ipvs/model";
import { inPrefix, networkOf } from "./netaddr";
import type { DoctorInputs, InterfaceAddress } from "./types";

export interface DoctorService {
  key: ServiceKey;
  realservers: ReadonlyArray<{ address: string; port: number; forward: string; weight: number }>;
}

export interface RealserverSubnet {
  ifname: string;
  /** "10.10.0.0/24" */
  network: string;
  /** The director's own address there: the realservers' gateway (the DIP). */
  dip: string;
  prefixLength: number;
}

export interface NatMember {
  address: string;
  port: number;
  /** The services it serves in (display form), and its highest weight among them. */
  services: string[];
  weight: number;
  tcp: boolean;
}

export interface CheckContext {
  inputs: DoctorInputs;
  services: readonly DoctorService[];
  natMembers: NatMember[];
  vips: Array<{ address: string; services: string[] }>;
  subnets: RealserverSubnet[];
  ownAddresses: Set<string>;
  /** keepalived's VRRP role of the director (its SIGUSR1 dump, read by the owner view), null when unknown. */
  vrrpRole: VrrpRole | null;
}

/** As the owner view reads it: MASTER carries the VIPs, a BACKUP holds none of them. */
export type VrrpRole = "MASTER" | "BACKUP" | "FAULT" | "MIXED";

function isHostPrefix(a: InterfaceAddress): boolean {
  return a.prefixLength === (a.family === "inet" ? 32 : 128);
}

export function checkContext(
  inputs: DoctorInputs,
  services: readonly DoctorService[],
  vrrpRole: VrrpRole | null = null,
): CheckContext {
  const members = new Map<string, NatMember>();
  const vips = new Map<string, string[]>();
  for (const s of services) {
    const name = formatServiceKey(s.key);
    if (s.key.kind !== "fwm") vips.set(s.key.address, [...(vips.get(s.key.address) ?? []), name]);
    for (const r of s.realservers) {
      if (r.forward !== "masq") continue;
      const id = formatEndpoint(r);
      const m = members.get(id) ?? {
        address: r.address,
        port: r.port,
        services: [],
        weight: 0,
        tcp: false,
      };
      m.services.push(name);
      m.weight = Math.max(m.weight, r.weight);
      m.tcp ||= s.key.kind === "tcp";
      members.set(id, m);
    }
  }
  const subnets: RealserverSubnet[] = [];
  for (const a of inputs.addresses) {
    if (isHostPrefix(a) || a.address.startsWith("fe80:")) continue;
    const network = networkOf(a.address, a.prefixLength);
    if (subnets.some((s) => s.network === network && s.ifname === a.ifname)) continue;
    if ([...members.values()].some((m) => inPrefix(m.address, a.address, a.prefixLength)))
      subnets.push({ ifname: a.ifname, network, dip: a.address, prefixLength: a.prefixLength });
  }
  return {
    inputs,
    services,
    natMembers: [...members.values()],
    vips: [...vips.entries()].map(([address, names]) => ({ address, services: names })),
    subnets,
    ownAddresses: new Set(inputs.addresses.map((a) => a.address)),
    vrrpRole,
  };
}

/** The subnet of the realservers that holds `address`, if any. */
export function subnetOf(ctx: CheckContext, address: string): RealserverSubnet | undefined {
  return ctx.subnets.find((s) => inPrefix(address, s.network.split("/")[0] ?? "", s.prefixLength));
}
