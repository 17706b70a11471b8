/**
 * `ipvsadm -Ln` and its variants that show rules: plain, `--tun-info`, `--persistent-conn`
 * and `--thresholds`. The variant is read from the header, never guessed from the rows.
 *
 * Formats, from ipvsadm.c (print_title / print_service_entry; the upstream source as
 * mirrored in formorer/pkg-ipvsadm, plus the 2019 GUE and GRE tunnel patches by Jacky Hu
 * and Julian Anastasov that ipvsadm 1.31 ships):
 *   plain:           "  -> %-28s %-7s %-6d %-10u %-10u"         addr Forward Weight Active InAct
 *   --tun-info:      "  -> %-28s %-7s %-13s %-6d %-10u %-10u"   addr Forward TunnelInfo Weight ...
 *   --persistent-conn "  -> %-28s %-9u %-11u %-10u %-10u"       addr Weight PersistConn Active InAct
 *   --thresholds:    "  -> %-28s %-10u %-10u %-10u %-10u"       addr Uthreshold Lthreshold Active InAct
 * with the title `Prot LocalAddress:Port  Uthreshold Lthreshold ActiveConn InActConn` over
 * `  -> RemoteAddress:Port` for --thresholds (no Forward and no Weight column there).
 * The service line is the same in all four: `TCP  VIP:port sched [(flags)] [persistent N
 * [mask M] [pe NAME]] [ops]`.
 */
import {
  type ForwardMethod,
  type Persistence,
  type RealserverRule,
  type ServiceRule,
  WEIGHT_MAX,
} from "@/server/ipvs/model";
import {
  fieldsAre,
  isRealserverLine,
  parseListedServiceKey,
  parseError,
  parseNetmask,
  parseSchedFlags,
  parseScheduler,
  requireNonEmpty,
  type SourceLine,
  sourceLines,
  U32_MAX,
} from "./common";

export type ListVariant = "plain" | "tun-info" | "persistent-conn" | "thresholds";

export type Tunnel = NonNullable<RealserverRule["tunnel"]>;

export interface ListedRealserver {
  address: string;
  port: number;
  /** Not printed by --persistent-conn and --thresholds: null there. */
  forward: ForwardMethod | null;
  /** Not printed by --thresholds: null there. */
  weight: number | null;
  /** Only printed by --thresholds: null elsewhere. */
  upperThreshold: number | null;
  lowerThreshold: number | null;
  /** Only printed by --tun-info (for tunnel members): null elsewhere, even for tunnels. */
  tunnel: Tunnel | null;
  activeConns: number;
  inactiveConns: number;
  /** Only printed by --persistent-conn: null elsewhere. */
  persistentConns: number | null;
}

export interface ListedService extends ServiceRule {
  realservers: ListedRealserver[];
}

export interface ServiceListing {
  variant: ListVariant;
  /** From `IP Virtual Server version 1.2.1 (size=4096)`; null when absent (`-Ln -t VIP`). */
  ipvsVersion: string | null;
  /** The connection hash table size. */
  tableSize: number | null;
  services: ListedService[];
}

const SOURCE = "ipvsadm -Ln";

const TITLE_RULES = ["Prot", "LocalAddress:Port", "Scheduler", "Flags"];
const REALSERVER_TITLES: Record<"plain" | "tun-info", string[]> = {
  plain: ["->", "RemoteAddress:Port", "Forward", "Weight", "ActiveConn", "InActConn"],
  "tun-info": [
    "->",
    "RemoteAddress:Port",
    "Forward",
    "TunnelInfo",
    "Weight",
    "ActiveConn",
    "InActConn",
  ],
};
const TITLE_PERSISTENT = [
  "Prot",
  "LocalAddress:Port",
  "Weight",
  "PersistConn",
  "ActiveConn",
  "InActConn",
];
const TITLE_THRESHOLDS = [
  "Prot",
  "LocalAddress:Port",
  "Uthreshold",
  "Lthreshold",
  "ActiveConn",
  "InActConn",
];
const REALSERVER_TITLE_BARE = ["->", "RemoteAddress:Port"];

export function parseList(text: string): ServiceListing {
  const lines = sourceLines(SOURCE, text);
  const banner = requireNonEmpty(SOURCE, lines);
  // `ipvsadm -Ln -t VIP:PORT` (one service) prints no banner.
  const bannerMatch = /^IP Virtual Server version (\d+\.\d+\.\d+) \(size=(\d+)\)$/.exec(
    banner.text.trim(),
  );
  const ipvsVersion = bannerMatch?.[1] ?? null;
  const tableSize = bannerMatch?.[2] === undefined ? null : Number(bannerMatch[2]);
  let index = bannerMatch === null ? 0 : 1;

  const variant = readVariant(lines[index], lines[index + 1]);
  index += 2;

  const services: ListedService[] = [];
  for (const line of lines.slice(index)) {
    if (isRealserverLine(line)) {
      const service = services.at(-1);
      if (service === undefined) throw line.error("realserver line before any service");
      service.realservers.push(parseRealserver(line, variant));
    } else {
      services.push({ ...parseServiceRuleLine(line), realservers: [] });
    }
  }
  return { variant, ipvsVersion, tableSize, services };
}

function readVariant(
  title: SourceLine | undefined,
  realserverTitle: SourceLine | undefined,
): ListVariant {
  if (title === undefined) throw parseError(SOURCE, 2, "", "the title line is missing");
  if (realserverTitle === undefined) {
    throw parseError(SOURCE, title.lineNumber + 1, "", "the realserver title line is missing");
  }
  if (fieldsAre(title, TITLE_RULES)) {
    if (fieldsAre(realserverTitle, REALSERVER_TITLES.plain)) return "plain";
    if (fieldsAre(realserverTitle, REALSERVER_TITLES["tun-info"])) return "tun-info";
    throw realserverTitle.error("unknown realserver title");
  }
  const variant = fieldsAre(title, TITLE_PERSISTENT)
    ? "persistent-conn"
    : fieldsAre(title, TITLE_THRESHOLDS)
      ? "thresholds"
      : null;
  if (variant === null) {
    throw title.error(
      "not an ipvsadm -Ln title (--stats and --rate go to parseStats and parseRate)",
    );
  }
  if (!fieldsAre(realserverTitle, REALSERVER_TITLE_BARE)) {
    throw realserverTitle.error("unknown realserver title");
  }
  return variant;
}

/** `TCP  203.0.113.11:443 wlc persistent 120 mask 255.255.255.0`, `FWM  1 mh (mh-port)`, ... */
export function parseServiceRuleLine(line: SourceLine): ServiceRule {
  const { key, next } = parseListedServiceKey(line);
  const scheduler = parseScheduler(line, line.field(next, "scheduler"));
  let persistence: Persistence | null = null;
  let ops = false;
  let schedFlags: ServiceRule["schedFlags"] = [];
  let pe: string | null = null;

  for (let i = next + 1; i < line.fields.length; i++) {
    const word = line.fields[i] ?? "";
    if (word.startsWith("(") && word.endsWith(")") && i === next + 1) {
      schedFlags = parseSchedFlags(line, word.slice(1, -1));
    } else if (word === "persistent" && persistence === null) {
      persistence = { timeout: line.int(++i, "persistence timeout", U32_MAX, 1), netmask: null };
    } else if (word === "mask" && persistence !== null && persistence.netmask === null) {
      persistence.netmask = parseNetmask(line, line.field(++i, "persistence netmask"));
    } else if (word === "pe" && pe === null) {
      pe = line.field(++i, "persistence engine");
      if (!/^[a-z]{1,16}$/.test(pe))
        throw line.error(`persistence engine ${JSON.stringify(pe)} is not a name`);
    } else if (word === "ops" && !ops) {
      ops = true;
    } else {
      throw line.error(`unexpected ${JSON.stringify(word)} in a service line`);
    }
  }
  return { key, scheduler, persistence, ops, schedFlags, pe };
}

const FORWARD_NAMES: Record<string, ForwardMethod> = {
  Masq: "masq",
  Route: "route",
  Tunnel: "tunnel",
  // The kernel shows Local when the realserver address is the director's own; ipvsadm -S
  // saves it as -g, so it reads as "route" here too and both views agree.
  Local: "route",
};

function parseForward(line: SourceLine, index: number): ForwardMethod {
  const name = line.field(index, "forwarding method");
  const forward = FORWARD_NAMES[name];
  if (forward === undefined) throw line.error(`unknown forwarding method ${JSON.stringify(name)}`);
  return forward;
}

function parseRealserver(line: SourceLine, variant: ListVariant): ListedRealserver {
  const { address, port } = line.endpoint(1, "realserver address");
  const base = {
    address,
    port,
    forward: null,
    weight: null,
    upperThreshold: null,
    lowerThreshold: null,
    tunnel: null,
    persistentConns: null,
  };
  switch (variant) {
    case "plain":
      line.expectFieldCount(6, "a realserver line");
      return {
        ...base,
        forward: parseForward(line, 2),
        weight: line.int(3, "weight", WEIGHT_MAX),
        activeConns: line.int(4, "ActiveConn", U32_MAX),
        inactiveConns: line.int(5, "InActConn", U32_MAX),
      };
    case "tun-info": {
      line.expectFieldCount(7, "a realserver line");
      const forward = parseForward(line, 2);
      return {
        ...base,
        forward,
        tunnel: parseTunnelInfo(line, forward),
        weight: line.int(4, "weight", WEIGHT_MAX),
        activeConns: line.int(5, "ActiveConn", U32_MAX),
        inactiveConns: line.int(6, "InActConn", U32_MAX),
      };
    }
    case "persistent-conn":
      line.expectFieldCount(6, "a realserver line");
      return {
        ...base,
        weight: line.int(2, "weight", WEIGHT_MAX),
        persistentConns: line.int(3, "PersistConn", U32_MAX),
        activeConns: line.int(4, "ActiveConn", U32_MAX),
        inactiveConns: line.int(5, "InActConn", U32_MAX),
      };
    case "thresholds":
      line.expectFieldCount(6, "a realserver line");
      return {
        ...base,
        upperThreshold: line.int(2, "Uthreshold", U32_MAX),
        lowerThreshold: line.int(3, "Lthreshold", U32_MAX),
        activeConns: line.int(4, "ActiveConn", U32_MAX),
        inactiveConns: line.int(5, "InActConn", U32_MAX),
      };
  }
}

/** ipvsadm's fwd_tun_info: `ipip`, `gue:PORT:FLAGS`, `gre:FLAGS`, or `n/a` when no tunnel. */
function parseTunnelInfo(line: SourceLine, forward: ForwardMethod): Tunnel | null {
  const info = line.field(3, "tunnel info");
  if (forward !== "tunnel") {
    if (info !== "n/a")
      throw line.error(`tunnel info ${JSON.stringify(info)} on a ${forward} realserver`);
    return null;
  }
  const parts = info.split(":");
  if (info === "ipip") return { type: "ipip", port: null, noChecksum: false };
  if (parts[0] === "gue" && parts.length === 3 && /^\d+$/.test(parts[1] ?? "")) {
    const port = Number(parts[1]);
    if (port < 1 || port > 65535) throw line.error(`tunnel port ${parts[1]} is outside 1..65535`);
    return { type: "gue", port, noChecksum: tunnelNoChecksum(line, parts[2] ?? "") };
  }
  if (parts[0] === "gre" && parts.length === 2) {
    return { type: "gre", port: null, noChecksum: tunnelNoChecksum(line, parts[1] ?? "") };
  }
  throw line.error(`unknown tunnel info ${JSON.stringify(info)}`);
}

function tunnelNoChecksum(line: SourceLine, flags: string): boolean {
  if (flags === "-c") return true;
  if (flags === "+c") return false;
  // "r+c" (remote checksum offload) has no place in the model: refuse rather than misreport.
  throw line.error(`tunnel checksum flags ${JSON.stringify(flags)} are not supported`);
}
