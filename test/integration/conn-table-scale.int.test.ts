/**
 * The connection table at scale, on real kernel entries: 20,000 UDP flows made by
 * `lab-traffic fill` through a service this file adds, read by the console and filtered,
 * counted and paged on its columns. (100k is the benchmark's job: npm run bench:ui.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { ConnTables } from "@/server/live/conn-tables";
import {
  connectionsQuerySchema,
  type ConnectionsQueryInput,
} from "@/server/ipvs/connections-filter";
import { connTablesFor, listConnections, readConnectionsNow } from "@/server/live/connections";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import { onLab, setUpConsole, tearDownConsole } from "./console-harness";
import { labDirector, labName } from "./lab-director";

const FLOWS = 20_000;
const VIP = "203.0.113.12:9";

let director: DirectorConfig;
let pool: SshPool;
let tables: ConnTables;
let udpTimeout = "300";

const lab = (command: string) => onLab(labName(), command);

beforeAll(async () => {
  director = await labDirector();
  pool = createSshPool({ trust: { get: () => null } });
  tables = connTablesFor(
    () => pool,
    () => 1000,
  );
  setUpConsole([{ id: "lab", directors: [director] }]);
  const timeouts = /(\d+) (\d+) (\d+)/.exec(await lab("ipvsadm -L --timeout"));
  udpTimeout = timeouts?.[3] ?? "300";
  // The flows' entries get a 30 s UDP timeout (set only while they are made): afterAll
  // waits them out, so no other file finds 20,000 extra entries in the shared lab.
  const filled = await lab(
    `ipvsadm -A -u ${VIP} -s rr && for n in 11 12 13; do ipvsadm -a -u ${VIP} -r 10.10.0.$n:9 -m; done && ` +
      `ipvsadm --set ${timeouts?.[1]} ${timeouts?.[2]} 30 && lab-traffic fill --vip ${VIP} --count ${FLOWS}; ` +
      `rc=$?; ipvsadm --set ${timeouts?.[1]} ${timeouts?.[2]} ${udpTimeout}; exit $rc`,
  );
  expect(Number(filled.trim())).toBe(FLOWS);
});

afterAll(async () => {
  tables.closeAll();
  pool.closeAll();
  await lab(`ipvsadm -D -u ${VIP}`);
  tearDownConsole();
  // /proc lists the flows by VIP:port in hex (CB00710C 0009); wait until none is left.
  await lab(
    "for i in $(seq 45); do grep -q 'CB00710C 0009' /proc/net/ip_vs_conn || exit 0; sleep 1; done; exit 1",
  );
}, 120_000);

const query = (input: Omit<ConnectionsQueryInput, "directorId">) =>
  listConnections(connectionsQuerySchema.parse({ directorId: director.id, ...input }), {
    pool,
    tables,
  });

describe("the connection table with 20,000 real entries", () => {
  it("reads them all, and counts, filters and pages them exactly", async () => {
    const read = await readConnectionsNow(director.id, { tables });
    expect(read.error).toBeNull();

    const service = await query({ filter: { service: `UDP ${VIP}` }, limit: 500 });
    expect(service.total).toBeGreaterThanOrEqual(FLOWS);
    expect(service.matched).toBe(FLOWS);
    expect(service.countsByState).toEqual({ UDP: FLOWS });
    // Round robin over three realservers, and nothing else reached them on port 9.
    const shares = ["10.10.0.11:9", "10.10.0.12:9", "10.10.0.13:9"].map(
      (rs) => service.countsByRealserver[rs] ?? 0,
    );
    expect(shares.reduce((a, b) => a + b, 0)).toBe(FLOWS);
    expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    expect(service.entries).toHaveLength(500);

    // Ten client addresses, 2,000 flows each, every one from its own source port.
    const client = await query({
      filter: { service: `UDP ${VIP}`, client: "203.0.113.104" },
      limit: 500,
      offset: 1900,
    });
    expect(client.matched).toBe(FLOWS / 10);
    expect(client.entries).toHaveLength(100);
    expect(
      client.entries.every(
        (e) =>
          e.client.address === "203.0.113.104" &&
          e.virtual.address === "203.0.113.12" &&
          e.virtual.port === 9 &&
          e.protocol === "UDP",
      ),
    ).toBe(true);
    const ports = new Set(client.entries.map((e) => e.client.port));
    expect(ports.size).toBe(100);

    // A prefix across half of them: .104/30 = .104-.107.
    const prefix = await query({ filter: { service: `UDP ${VIP}`, client: "203.0.113.104/30" } });
    expect(prefix.matched).toBe((FLOWS / 10) * 4);
    const byRealserver = await query({ filter: { realserver: "10.10.0.12:9" } });
    expect(byRealserver.matched).toBe(shares[1]);
  });
});
