import {
  formatEndpoint,
  formatServiceKey,
  type Endpoint,
  type ServiceRule,
} from "@/server/ipvs/model";

/**
 * The director page's service filter: a service matches by its name as the page shows it
 * ("TCP 203.0.113.10:80", so ":80" or a VIP works), by its scheduler, or by one of its
 * realservers ("10.10.0.11", "10.10.0.11:80"). `query` is trimmed and lower case.
 */
export function serviceMatches(
  s: Pick<ServiceRule, "key" | "scheduler"> & { realservers: readonly Endpoint[] },
  query: string,
): boolean {
  if (formatServiceKey(s.key).toLowerCase().includes(query)) return true;
  if (s.scheduler.toLowerCase() === query) return true;
  return s.realservers.some((r) => formatEndpoint(r).toLowerCase().includes(query));
}
