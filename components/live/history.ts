"use client";
import { useCallback, useRef, useState } from "react";
import type { DirectorSnapshot } from "@/server/live/types";

export const HISTORY_POINTS = 60;

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

export interface Series {
  cps: number[];
  bps: number[];
}

/**
 * Rate history per director, kept in the browser from the pushes (the server keeps none).
 * One point per new snapshot: a repeated push of the same poll adds nothing.
 */
export function useRateHistory(): [
  Record<string, Series>,
  (snapshot: DirectorSnapshot | null) => void,
] {
  const lastTaken = useRef(new Map<string, number>());
  const [series, setSeries] = useState<Record<string, Series>>({});
  const add = useCallback((snapshot: DirectorSnapshot | null) => {
    if (!snapshot) return;
    if (lastTaken.current.get(snapshot.directorId) === snapshot.takenAt) return;
    lastTaken.current.set(snapshot.directorId, snapshot.takenAt);
    const t = totalsOf(snapshot);
    setSeries((prev) => {
      const old = prev[snapshot.directorId] ?? { cps: [], bps: [] };
      return {
        ...prev,
        [snapshot.directorId]: {
          cps: [...old.cps, t.cps].slice(-HISTORY_POINTS),
          bps: [...old.bps, t.bps].slice(-HISTORY_POINTS),
        },
      };
    });
  }, []);
  return [series, add];
}
