/**
 * Merges the listings of one poll (read together, in one SSH command) into ServiceState[]:
 * rules, connection counts, persistence templates, thresholds, counters and rates.
 *
 * Every view must list the same services and, per service, the same realservers: a
 * difference means the director changed between two reads, and the poll is refused with
 * a PARSE_ERROR (source "merge") rather than showing a mix of two states. The rules shown
 * by the persistent-conn and thresholds views must match the main listing too.
 *
 * A missing view leaves its fields null (counters, rates, persistentConns). Thresholds
 * are not nullable in the model: without the thresholds view they are 0, which is what
 * `ipvsadm -Sn` implies as well, so a poll that wants them must read --thresholds.
 */
import {
  formatEndpoint,
  formatServiceKey,
  sameEndpoint,
  sameServiceKey,
  type RealserverState,
  type ServiceKey,
  type ServiceRule,
  type ServiceState,
} from "@/server/ipvs/model";
import { ConsoleError } from "@/server/errors";
import { type RateListing, type StatsListing } from "./counters";
import { type ListedService, type ListVariant, type ServiceListing } from "./list";

export interface ListingViews {
  /** `ipvsadm -Ln` or `ipvsadm -Ln --tun-info` (which also gives tunnel details). */
  list: ServiceListing;
  /** `ipvsadm -Ln --exact --stats`. */
  stats?: StatsListing;
  /** `ipvsadm -Ln --exact --rate`. */
  rate?: RateListing;
  /** `ipvsadm -Ln --persistent-conn`. */
  persistent?: ServiceListing;
  /** `ipvsadm -Ln --thresholds`. */
  thresholds?: ServiceListing;
}

type ViewName = "stats" | "rate" | "persistent" | "thresholds";

/** A PARSE_ERROR from merging two listings that disagree (source "merge": a full read fixes it). */
export function mergeError(message: string, details: Record<string, unknown>): ConsoleError {
  return new ConsoleError("PARSE_ERROR", `merging listings: ${message}`, {
    source: "merge",
    ...details,
  });
}

export function mergeListings(views: ListingViews): ServiceState[] {
  expectVariant("list", views.list, ["plain", "tun-info"]);
  if (views.persistent) expectVariant("persistent", views.persistent, ["persistent-conn"]);
  if (views.thresholds) expectVariant("thresholds", views.thresholds, ["thresholds"]);

  const keys = views.list.services.map((s) => s.key);
  const stats = views.stats && matchServices("stats", keys, views.stats.services);
  const rate = views.rate && matchServices("rate", keys, views.rate.services);
  const persistent =
    views.persistent && matchServices("persistent", keys, views.persistent.services);
  const thresholds =
    views.thresholds && matchServices("thresholds", keys, views.thresholds.services);

  return views.list.services.map((service, index): ServiceState => {
    const statsRow = stats?.[index];
    const rateRow = rate?.[index];
    const persistentRow = persistent?.[index];
    const thresholdsRow = thresholds?.[index];
    if (statsRow?.approximate) throw approximateError(service.key, "stats");
    if (rateRow?.approximate) throw approximateError(service.key, "rate");
    if (persistentRow) expectSameRule("persistent", service, persistentRow);
    if (thresholdsRow) expectSameRule("thresholds", service, thresholdsRow);

    const endpoints = service.realservers;
    const statsRs =
      statsRow && matchRealservers("stats", service.key, endpoints, statsRow.realservers);
    const rateRs = rateRow && matchRealservers("rate", service.key, endpoints, rateRow.realservers);
    const persistentRs =
      persistentRow &&
      matchRealservers("persistent", service.key, endpoints, persistentRow.realservers);
    const thresholdsRs =
      thresholdsRow &&
      matchRealservers("thresholds", service.key, endpoints, thresholdsRow.realservers);

    const realservers = service.realservers.map((rs, i): RealserverState => {
      const where = { service: formatServiceKey(service.key), realserver: formatEndpoint(rs) };
      if (rs.forward === null || rs.weight === null) {
        throw mergeError("the main listing lacks forward or weight", where);
      }
      const persistentOne = persistentRs?.[i];
      if (persistentOne && persistentOne.weight !== rs.weight) {
        throw mergeError(
          `the weight changed between reads (${rs.weight}, then ${persistentOne.weight})`,
          {
            ...where,
            view: "persistent",
          },
        );
      }
      const statsOne = statsRs?.[i];
      const rateOne = rateRs?.[i];
      if (statsOne?.approximate) throw approximateError(service.key, "stats");
      if (rateOne?.approximate) throw approximateError(service.key, "rate");
      const thresholdsOne = thresholdsRs?.[i];
      return {
        address: rs.address,
        port: rs.port,
        forward: rs.forward,
        weight: rs.weight,
        upperThreshold: thresholdsOne?.upperThreshold ?? 0,
        lowerThreshold: thresholdsOne?.lowerThreshold ?? 0,
        tunnel: rs.tunnel,
        activeConns: rs.activeConns,
        inactiveConns: rs.inactiveConns,
        persistentConns: persistentOne?.persistentConns ?? null,
        counters: statsOne?.values ?? null,
        rates: rateOne?.values ?? null,
      };
    });

    return {
      key: service.key,
      scheduler: service.scheduler,
      persistence: service.persistence,
      ops: service.ops,
      schedFlags: service.schedFlags,
      pe: service.pe,
      realservers,
      counters: statsRow?.values ?? null,
      rates: rateRow?.values ?? null,
    };
  });
}

function expectVariant(
  view: "list" | ViewName,
  listing: ServiceListing,
  allowed: ListVariant[],
): void {
  if (!allowed.includes(listing.variant)) {
    throw mergeError(
      `the ${view} view is a ${listing.variant} listing, expected ${allowed.join(" or ")}`,
      {
        view,
      },
    );
  }
}

function approximateError(key: ServiceKey, view: ViewName): ConsoleError {
  return mergeError(`the ${view} view has rounded (K/M/G) values: read it with --exact`, {
    service: formatServiceKey(key),
    view,
  });
}

/** The rows of `rows` in the order of `keys`, or an error naming the first difference. */
function matchServices<T extends { key: ServiceKey }>(
  view: ViewName,
  keys: ServiceKey[],
  rows: T[],
): T[] {
  for (const row of rows) {
    if (!keys.some((key) => sameServiceKey(key, row.key))) {
      throw mergeError(`service ${formatServiceKey(row.key)} is in the ${view} view only`, {
        service: formatServiceKey(row.key),
        view,
      });
    }
  }
  return keys.map((key) => {
    const row = rows.find((r) => sameServiceKey(r.key, key));
    if (row === undefined) {
      throw mergeError(`service ${formatServiceKey(key)} is missing from the ${view} view`, {
        service: formatServiceKey(key),
        view,
      });
    }
    return row;
  });
}

function matchRealservers<T extends { address: string; port: number }>(
  view: ViewName,
  key: ServiceKey,
  endpoints: Array<{ address: string; port: number }>,
  rows: T[],
): T[] {
  const service = formatServiceKey(key);
  for (const row of rows) {
    if (!endpoints.some((e) => sameEndpoint(e, row))) {
      throw mergeError(
        `realserver ${formatEndpoint(row)} of ${service} is in the ${view} view only`,
        {
          service,
          realserver: formatEndpoint(row),
          view,
        },
      );
    }
  }
  return endpoints.map((endpoint) => {
    const row = rows.find((r) => sameEndpoint(r, endpoint));
    if (row === undefined) {
      throw mergeError(
        `realserver ${formatEndpoint(endpoint)} of ${service} is missing from the ${view} view`,
        {
          service,
          realserver: formatEndpoint(endpoint),
          view,
        },
      );
    }
    return row;
  });
}

function expectSameRule(view: ViewName, main: ServiceRule, other: ListedService): void {
  const same =
    main.scheduler === other.scheduler &&
    main.ops === other.ops &&
    main.pe === other.pe &&
    main.schedFlags.join(",") === other.schedFlags.join(",") &&
    main.persistence?.timeout === other.persistence?.timeout &&
    main.persistence?.netmask === other.persistence?.netmask;
  if (!same) {
    throw mergeError(`the rule of ${formatServiceKey(main.key)} changed between reads`, {
      service: formatServiceKey(main.key),
      view,
    });
  }
}
