"use client";
import type { DirectorSnapshot } from "@/server/live/types";

export interface DirectorTotals {
  cps: number;
  bps: number;
  activeConns: number;
  inactiveConns: number;
  services: number;
  realservers: number;
}

export function totalsOf(snapshot: DirectorSnapshot): DirectorTotals {
  let cps = 0;
  let bps = 0;
  let activeConns = 0;
  let inactiveConns = 0;
  const realservers = new Set<string>();
  for (const s of snapshot.services) {
    cps += s.rates?.cps ?? 0;
    bps += (s.rates?.inBps ?? 0) + (s.rates?.outBps ?? 0);
    for (const r of s.realservers) {
      activeConns += r.activeConns;
      inactiveConns += r.inactiveConns;
      realservers.add(`${r.address}|${r.port}`);
    }
  }
  return {
    cps,
    bps,
    activeConns,
    inactiveConns,
    services: snapshot.services.length,
    realservers: realservers.size,
  };
}
