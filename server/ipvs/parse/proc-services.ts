/**
 * /proc/net/ip_vs: the rules and connection counts as the kernel prints them, in hex.
 *
 * A fallback view for directors without ipvsadm. It lacks what the kernel does not print
 * there (scheduler flags, the persistence engine) and gives the persistence timeout in
 * kernel ticks (HZ differs: 100 in UML, 250 on Debian amd64), so it is kept apart from the
 * model's rules: read rules from ipvsadm.
 */
import {
  type ServiceKey,
  type Scheduler,
  type ForwardMethod,
  WEIGHT_MAX,
} from "@/server/ipvs/model";
import {
  fieldsAre,
  hexAddress,
  parseScheduler,
  requireNonEmpty,
  type SourceLine,
  sourceLines,
  U32_MAX,
} from "./common";

const SOURCE = "/proc/net/ip_vs";

export interface ProcRealserver {
  address: string;
  port: number;
  forward: ForwardMethod;
  weight: number;
  activeConns: number;
  inactiveConns: number;
}

export interface ProcService {
  key: ServiceKey;
  scheduler: Scheduler;
  ops: boolean;
  /** `persistent TICKS MASK`: the timeout in kernel ticks and the netmask as printed (hex). */
  persistence: { timeoutTicks: number; netmaskHex: string } | null;
  realservers: ProcRealserver[];
}

const PROTOCOLS: Record<string, "tcp" | "udp" | "sctp"> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };
const FORWARD_NAMES: Record<string, ForwardMethod> = {
  Masq: "masq",
  Route: "route",
  Tunnel: "tunnel",
  Local: "route",
};

export function parseProcServices(text: string): ProcService[] {
  const lines = sourceLines(SOURCE, text);
  const banner = requireNonEmpty(SOURCE, lines);
  if (!banner.text.startsWith("IP Virtual Server version "))
    throw banner.error("expected the IPVS banner");
  const title = lines[1];
  const realserverTitle = lines[2];
  if (!fieldsAre(title, ["Prot", "LocalAddress:Port", "Scheduler", "Flags"])) {
    (title ?? banner).fail("expected the service title");
  }
  const expected = ["->", "RemoteAddress:Port", "Forward", "Weight", "ActiveConn", "InActConn"];
  if (!fieldsAre(realserverTitle, expected))
    (realserverTitle ?? banner).fail("expected the realserver title");

  const services: ProcService[] = [];
  for (const line of lines.slice(3)) {
    if (line.fields[0] === "->") {
      const service = services.at(-1);
      if (service === undefined) throw line.error("realserver line before any service");
      line.expectFieldCount(6, "a realserver line");
      const forwardName = line.field(2, "forwarding method");
      const forward = FORWARD_NAMES[forwardName];
      if (forward === undefined)
        throw line.error(`unknown forwarding method ${JSON.stringify(forwardName)}`);
      service.realservers.push({
        ...hexEndpoint(line, 1),
        forward,
        weight: line.int(3, "weight", WEIGHT_MAX),
        activeConns: line.int(4, "ActiveConn", U32_MAX),
        inactiveConns: line.int(5, "InActConn", U32_MAX),
      });
    } else {
      services.push(parseServiceLine(line));
    }
  }
  return services;
}

function parseServiceLine(line: SourceLine): ProcService {
  const protocol = line.field(0, "protocol");
  let key: ServiceKey;
  if (protocol === "FWM") {
    const mark = line.hex(1, "firewall mark", U32_MAX);
    if (mark === 0) throw line.error("firewall mark 0");
    // The kernel does not print the family of a mark service here.
    key = { kind: "fwm", mark, family: "inet" };
  } else {
    const kind = PROTOCOLS[protocol];
    if (kind === undefined) throw line.error(`unknown protocol ${JSON.stringify(protocol)}`);
    key = { kind, ...hexEndpoint(line, 1) };
  }
  const scheduler = parseScheduler(line, line.field(2, "scheduler"));
  let ops = false;
  let persistence: ProcService["persistence"] = null;
  for (let i = 3; i < line.fields.length; i++) {
    const word = line.fields[i];
    if (word === "ops" && !ops) {
      ops = true;
    } else if (word === "persistent" && persistence === null) {
      const timeoutTicks = line.int(i + 1, "persistence timeout", U32_MAX);
      const netmaskHex = line.field(i + 2, "persistence netmask");
      if (!/^[0-9A-F]{8}$/.test(netmaskHex))
        throw line.error(`netmask ${JSON.stringify(netmaskHex)} is not hex`);
      persistence = { timeoutTicks, netmaskHex };
      i += 2;
    } else {
      throw line.error(`unexpected ${JSON.stringify(word)} in a service line`);
    }
  }
  return { key, scheduler, ops, persistence, realservers: [] };
}

/** `CB00710A:0050` or `[2001:0db8:...:0010]:0050`. */
function hexEndpoint(line: SourceLine, index: number): { address: string; port: number } {
  const text = line.field(index, "address");
  const match =
    /^\[([0-9A-Fa-f:]+)\]:([0-9A-Fa-f]{4})$/.exec(text) ??
    /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(text);
  const address = match?.[1] === undefined ? null : hexAddress(match[1]);
  if (address === null || match?.[2] === undefined)
    throw line.error(`${JSON.stringify(text)} is not a hex address:port`);
  return { address, port: Number.parseInt(match[2], 16) };
}
