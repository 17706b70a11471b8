/**
 * Forward methods for a listing: ipvsadm -Ln does not print them, /proc/net/ip_vs (or the
 * last full read) does. Pure.
 */
import {
  formatEndpoint,
  formatServiceKey,
  sameEndpoint,
  type ServiceKey,
} from "@/server/ipvs/model";
import type { ProcService, ServiceListing } from "@/server/ipvs/parse";
import { mergeError } from "@/server/ipvs/parse/merge";

function sameKeyLoosely(a: ServiceKey, b: ServiceKey): boolean {
  // /proc/net/ip_vs does not say which family a firewall mark service is for.
  if (a.kind === "fwm" || b.kind === "fwm")
    return a.kind === "fwm" && b.kind === "fwm" && a.mark === b.mark;
  return a.kind === b.kind && a.address === b.address && a.port === b.port;
}

/** Where forward methods come from: /proc/net/ip_vs, or the services of the last full read. */
export type ForwardSource = ReadonlyArray<
  Pick<ProcService, "key"> & {
    realservers: ReadonlyArray<
      Pick<ProcService["realservers"][number], "address" | "port" | "forward">
    >;
  }
>;

/**
 * The main listing mergeListings needs (forward and weight per realserver), built from the
 * --persistent-conn listing plus the forward methods of /proc/net/ip_vs (a full read) or
 * of the last full read (a light read: any difference means the rules changed).
 */
export function listWithForward(persistent: ServiceListing, proc: ForwardSource): ServiceListing {
  for (const p of proc) {
    if (!persistent.services.some((s) => sameKeyLoosely(s.key, p.key))) {
      throw mergeError(`service ${formatServiceKey(p.key)} is in /proc/net/ip_vs only`, {
        service: formatServiceKey(p.key),
        view: "proc",
      });
    }
  }
  return {
    ...persistent,
    variant: "plain",
    services: persistent.services.map((service) => {
      const p = proc.find((ps) => sameKeyLoosely(ps.key, service.key));
      if (!p) {
        throw mergeError(
          `service ${formatServiceKey(service.key)} is missing from /proc/net/ip_vs`,
          { service: formatServiceKey(service.key), view: "proc" },
        );
      }
      if (p.realservers.length !== service.realservers.length) {
        throw mergeError(
          `the realservers of ${formatServiceKey(service.key)} changed between reads`,
          { service: formatServiceKey(service.key), view: "proc" },
        );
      }
      return {
        ...service,
        realservers: service.realservers.map((rs) => {
          const pr = p.realservers.find((r) => sameEndpoint(r, rs));
          if (!pr) {
            throw mergeError(
              `realserver ${formatEndpoint(rs)} of ${formatServiceKey(service.key)} is missing from /proc/net/ip_vs`,
              {
                service: formatServiceKey(service.key),
                realserver: formatEndpoint(rs),
                view: "proc",
              },
            );
          }
          return { ...rs, forward: pr.forward, persistentConns: null };
        }),
      };
    }),
  };
}
