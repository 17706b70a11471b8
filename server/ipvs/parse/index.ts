/**
 * Parsers of everything the console reads from a director: ipvsadm's listings and rule
 * dump, the /proc/net/ip_vs* files and the net.ipv4.vs sysctls. Pure: text in, typed
 * model out; anything unexpected is a ConsoleError("PARSE_ERROR") naming the line.
 */
export {
  parseList,
  type ListVariant,
  type ListedRealserver,
  type ListedService,
  type ServiceListing,
  type Tunnel,
} from "./list";
export {
  parseStats,
  parseRate,
  type CounterRow,
  type CounterService,
  type RateListing,
  type StatsListing,
} from "./counters";
export { parseSaved } from "./saved";
export { parseConnections, parseProcConnections } from "./connections";
export { parseTimeouts } from "./timeouts";
export { parseVersion } from "./version";
export { parseSysctls, NON_NUMERIC_SYSCTLS } from "./sysctls";
export { parseProcStats, type ProcStats } from "./proc-stats";
export { parseProcServices, type ProcRealserver, type ProcService } from "./proc-services";
export { mergeListings, type ListingViews } from "./merge";
export { type ParseSource } from "./common";
