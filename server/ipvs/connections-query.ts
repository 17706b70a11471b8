/**
 * The connection table query: which entries of one read of /proc/net/ip_vs_conn (held in
 * columns, see server/ipvs/parse/conn-table.ts) match a filter, their counts by state and by
 * realserver, and one page of them. The browser only ever holds counts and the pages under
 * its viewport, so 100k entries scroll like 100.
 *
 * Filtering happens here on the console's copy, never on the director: reading the table is
 * quadratic in the kernel (every read() of the seq_file walks the hash table from the start
 * up to its position), 17 s for 100k entries in the lab, so the table is read in the
 * background (server/live/conn-tables.ts) and a filter costs milliseconds, not a read.
 *
 * Pure: the query over a table (the filter it takes: connections-filter.ts).
 */
import { ConsoleError } from "@/server/errors";
import {
  CONNECTION_PROTOCOLS,
  formatEndpoint,
  formatServiceKey,
  type ConnectionEntry,
  type ServiceState,
} from "@/server/ipvs/model";
import { connTableEntry, type ConnTable } from "@/server/ipvs/parse/conn-table";
import { procAddress, type ConnectionFilter } from "./connections-filter";

/**
 * What a firewall-mark service filter needs: the table shows the packet's real destination,
 * not the mark, so an FWM service's entries are those going to its realservers that no
 * protocol/VIP/port service claims (plus its templates, keyed by the mark itself).
 */
export interface ServiceContext {
  services: ReadonlyArray<Pick<ServiceState, "key" | "realservers">>;
}

/** The entries of one table that match one filter, in table order, with their counts. */
export interface ConnMatch {
  indexes: Uint32Array;
  countsByState: Record<string, number>;
  countsByRealserver: Record<string, number>;
}

export interface ConnectionsPage {
  total: number;
  matched: number;
  entries: ConnectionEntry[];
  countsByState: Record<string, number>;
  countsByRealserver: Record<string, number>;
}

const PROTOCOL_ID = new Map<string, number>(CONNECTION_PROTOCOLS.map((p, i) => [p, i]));
const IP_PROTOCOL = PROTOCOL_ID.get("IP") ?? -1;

/** Distinct address (kernel form) -> id, built once per table when a filter needs it. */
const addressIndexes = new WeakMap<ConnTable, Map<string, number>>();
function addressId(table: ConnTable, address: string): number {
  let index = addressIndexes.get(table);
  if (!index) {
    index = new Map(table.addresses.map((a, i) => [a, i]));
    addressIndexes.set(table, index);
  }
  return index.get(procAddress(address)) ?? -1;
}

/** Whether the kernel-form address `procText` lies in `net`/`bits` (net: addressToHex form). */
function inPrefix(procText: string, net: string, bits: number): boolean {
  const hex = procText.length === 8 ? procText : procText.replaceAll(":", "").toUpperCase();
  if (hex.length !== net.length) return false;
  const whole = Math.floor(bits / 4);
  if (hex.slice(0, whole) !== net.slice(0, whole)) return false;
  const rest = bits % 4;
  if (rest === 0) return true;
  const mask = (0xf << (4 - rest)) & 0xf;
  return (
    (Number.parseInt(hex[whole] ?? "0", 16) & mask) ===
    (Number.parseInt(net[whole] ?? "0", 16) & mask)
  );
}

/** Port and id in one number: ids are below 2^32, so this stays an exact integer. */
const endpointKey = (id: number, port: number) => id * 65536 + port;

export function matchConnTable(
  table: ConnTable,
  filter: ConnectionFilter,
  context: ServiceContext | null,
): ConnMatch {
  const { size } = table;
  const stateId = filter.state === undefined ? -1 : table.states.indexOf(filter.state);
  const noMatch = filter.state !== undefined && stateId < 0;

  // Per distinct address, decided once.
  let clientOk: Uint8Array | null = null;
  if (filter.client) {
    const { hex, bits } = filter.client;
    clientOk = Uint8Array.from(table.addresses, (a) => (inPrefix(a, hex, bits) ? 1 : 0));
  }
  const rsId = filter.realserver ? addressId(table, filter.realserver.address) : -2;
  const rsPort = filter.realserver?.port ?? null;

  let serviceProto = -1;
  let serviceAddress = -2;
  let servicePort = 0;
  let fwm: { markHex: string; dests: Set<number>; claimed: Set<number> } | null = null;
  const service = filter.service;
  if (service && service.kind !== "fwm") {
    serviceProto = PROTOCOL_ID.get(service.kind.toUpperCase()) ?? -1;
    serviceAddress = addressId(table, service.address);
    servicePort = service.port;
  } else if (service) {
    const target = context?.services.find(
      (s) => s.key.kind === "fwm" && s.key.mark === service.mark && s.key.family === service.family,
    );
    if (!target) {
      throw new ConsoleError(
        "NOT_FOUND",
        `the director has no service ${formatServiceKey(service)}`,
        { service: formatServiceKey(service) },
      );
    }
    fwm = {
      markHex: service.mark.toString(16).toUpperCase().padStart(8, "0"),
      dests: new Set(
        target.realservers.map((r) => endpointKey(addressId(table, r.address), r.port)),
      ),
      claimed: new Set(
        (context?.services ?? []).flatMap((s) =>
          s.key.kind === "fwm"
            ? []
            : [
                (PROTOCOL_ID.get(s.key.kind.toUpperCase()) ?? 0) * 2 ** 48 +
                  endpointKey(addressId(table, s.key.address), s.key.port),
              ],
        ),
      ),
    };
  }
  // A template of a firewall-mark service carries the mark where the VIP would be.
  const markOk = fwm
    ? Uint8Array.from(table.addresses, (a) =>
        a.replaceAll(":", "").slice(0, 8).toUpperCase() === fwm.markHex ? 1 : 0,
      )
    : null;

  const indexes = new Uint32Array(noMatch ? 0 : size);
  const stateCounts = new Uint32Array(table.states.length);
  const rsCounts = new Map<number, number>();
  let matched = 0;
  for (let i = 0; i < size && !noMatch; i++) {
    if (stateId >= 0 && table.state[i] !== stateId) continue;
    if (filter.templates !== undefined && (table.clientPort[i] === 0) !== filter.templates)
      continue;
    if (clientOk && clientOk[table.client[i] ?? 0] !== 1) continue;
    const dest = table.destination[i] ?? 0;
    const destPort = table.destinationPort[i] ?? 0;
    if (rsId !== -2 && (dest !== rsId || (rsPort !== null && destPort !== rsPort))) continue;
    const proto = table.protocol[i] ?? 0;
    const virtual = table.virtual[i] ?? 0;
    if (
      serviceProto !== -1 &&
      (proto !== serviceProto || virtual !== serviceAddress || table.virtualPort[i] !== servicePort)
    )
      continue;
    if (fwm && markOk) {
      if (proto === IP_PROTOCOL) {
        if (markOk[virtual] !== 1) continue;
      } else {
        if (!fwm.dests.has(endpointKey(dest, destPort))) continue;
        if (fwm.claimed.has(proto * 2 ** 48 + endpointKey(virtual, table.virtualPort[i] ?? 0)))
          continue;
      }
    }
    indexes[matched++] = i;
    const state = table.state[i] ?? 0;
    stateCounts[state] = (stateCounts[state] ?? 0) + 1;
    const key = endpointKey(dest, destPort);
    rsCounts.set(key, (rsCounts.get(key) ?? 0) + 1);
  }

  const countsByState: Record<string, number> = {};
  stateCounts.forEach((n, id) => {
    if (n > 0) countsByState[table.states[id] ?? ""] = n;
  });
  const countsByRealserver: Record<string, number> = {};
  for (const [key, n] of rsCounts) {
    const id = Math.floor(key / 65536);
    const shown = formatEndpoint({ address: table.display[id] ?? "", port: key % 65536 });
    countsByRealserver[shown] = (countsByRealserver[shown] ?? 0) + n;
  }
  return { indexes: indexes.slice(0, matched), countsByState, countsByRealserver };
}

export function connectionsPage(
  table: ConnTable,
  match: ConnMatch,
  page: { offset: number; limit: number },
): ConnectionsPage {
  const entries: ConnectionEntry[] = [];
  const end = Math.min(match.indexes.length, page.offset + page.limit);
  for (let k = page.offset; k < end; k++)
    entries.push(connTableEntry(table, match.indexes[k] ?? 0));
  return {
    total: table.size,
    matched: match.indexes.length,
    entries,
    countsByState: match.countsByState,
    countsByRealserver: match.countsByRealserver,
  };
}
