/**
 * Per-second rates from the counters of two polls. Pure.
 */
import { sameEndpoint, type Counters, type Rates, type ServiceState } from "@/server/ipvs/model";
import type { DirectorSnapshot } from "./types";
import { sameKeyStrict } from "./snapshot-parse";

function rate(now: Counters, before: Counters, seconds: number): Rates | null {
  const d = (a: bigint, b: bigint) => (a >= b ? Number(a - b) / seconds : null);
  const cps = d(now.conns, before.conns);
  const inPps = d(now.inPackets, before.inPackets);
  const outPps = d(now.outPackets, before.outPackets);
  const inBps = d(now.inBytes, before.inBytes);
  const outBps = d(now.outBytes, before.outBytes);
  // A counter that went down means the service or realserver was re-created: no rate.
  if (cps === null || inPps === null || outPps === null || inBps === null || outBps === null)
    return null;
  return { cps, inPps, outPps, inBps, outBps };
}

/** Per-second rates from the counter deltas since the previous poll (null on the first). */
export function withRates(
  services: ServiceState[],
  takenAt: number,
  previous: Pick<DirectorSnapshot, "services" | "takenAt"> | null,
): ServiceState[] {
  const seconds = previous ? (takenAt - previous.takenAt) / 1000 : 0;
  if (!previous || seconds <= 0) return services;
  return services.map((service) => {
    const before = previous.services.find((p) => sameKeyStrict(p.key, service.key));
    if (!before) return service;
    return {
      ...service,
      rates:
        service.counters && before.counters
          ? rate(service.counters, before.counters, seconds)
          : null,
      realservers: service.realservers.map((rs) => {
        const prev = before.realservers.find((p) => sameEndpoint(p, rs));
        return {
          ...rs,
          rates: rs.counters && prev?.counters ? rate(rs.counters, prev.counters, seconds) : null,
        };
      }),
    };
  });
}
