/**
 * `virtual_server`, `virtual_server_group`, `real_server` and checker blocks, read the way
 * keepalived 2.2.7's check_parser.c reads them. Keyword lists are keepalived's; a keyword
 * it does not list is an error finding (keepalived skips it, so the operator's intent is
 * not what runs). Checker blocks keep their node for the editor.
 */
import { type ForwardMethod } from "@/server/ipvs/model";
import { type ConfigNode } from "./tree";
import {
  type Checker,
  CHECKER_KINDS,
  type CheckerKind,
  type CheckedUrl,
  type RealServer,
  type SorryServer,
  type TunnelSetting,
  type VirtualServer,
  type VirtualServerGroup,
  type VirtualServerGroupEntry,
  type VirtualServerTarget,
} from "./types";
import { type ValueReader } from "./values";

const VS_IGNORED = new Set([
  "retry",
  "delay_before_retry",
  "warmup",
  "connect_timeout",
  "hashed",
  "flag-1",
  "flag-2",
  "flag-3",
  "ha_suspend",
  "smtp_alert",
  "virtualhost",
  "snmp_name",
  "alpha",
  "omega",
  "sorry_server_inhibit",
  "sorry_server_lvs_method",
]);

const RS_IGNORED = new Set([
  "notify_up",
  "notify_down",
  "alpha",
  "retry",
  "delay_before_retry",
  "warmup",
  "connect_timeout",
  "delay_loop",
  "smtp_alert",
  "virtualhost",
  "snmp_name",
  "track_file",
  "track_bfd",
]);

const FORWARD: Record<string, ForwardMethod> = { NAT: "masq", DR: "route", TUN: "tunnel" };

function forwarding(
  node: ConfigNode,
  values: ValueReader,
): { forward: ForwardMethod; tunnel: TunnelSetting | null } | null {
  const method = FORWARD[node.args[0] ?? ""];
  if (method === undefined) {
    values.error(node, `unknown forwarding method ${JSON.stringify(node.args[0] ?? "")}`);
    return null;
  }
  if (method !== "tunnel") {
    if (node.args.length > 1) values.error(node, `${node.args[0]} takes no options`);
    return { forward: method, tunnel: null };
  }
  const tunnel: TunnelSetting = { type: "ipip", port: null, noChecksum: false };
  for (let i = 1; i < node.args.length; i += 1) {
    const option = node.args[i];
    if (option === "type") {
      const type = node.args[i + 1];
      if (type !== "ipip" && type !== "gue" && type !== "gre") {
        values.error(node, `unknown tunnel type ${JSON.stringify(type ?? "")}`);
        return null;
      }
      tunnel.type = type;
      i += 1;
    } else if (option === "port") {
      tunnel.port = values.int(node, i + 1, 1, 65535);
      i += 1;
    } else if (option === "nocsum" || option === "csum") {
      tunnel.noChecksum = option === "nocsum";
    } else {
      values.error(node, `unsupported tunnel option ${JSON.stringify(option)}`);
      return null;
    }
  }
  return { forward: method, tunnel };
}

function target(node: ConfigNode, values: ValueReader): VirtualServerTarget | null {
  const [first, second] = node.args;
  if (first === "group") {
    if (second === undefined) values.error(node, "virtual_server group needs a group name");
    return second === undefined ? null : { kind: "group", name: second };
  }
  if (first === "fwmark") {
    const mark = values.int(node, 1, 1, 4294967295);
    return mark === null ? null : { kind: "fwmark", mark };
  }
  const address = values.address(node, first, "virtual server address");
  const port = second === undefined ? 0 : values.port(node, second, "virtual server");
  if (node.args.length > 2) values.error(node, "virtual_server takes an address and a port");
  return address === null || port === null ? null : { kind: "address", address, port };
}

export function readVirtualServer(node: ConfigNode, values: ValueReader): VirtualServer | null {
  const vsTarget = target(node, values);
  if (node.block === null) {
    values.error(node, "virtual_server has no { } block");
    return null;
  }
  if (vsTarget === null) return null;
  const vs: VirtualServer = {
    node,
    source: node.source,
    target: vsTarget,
    protocol: null,
    scheduler: null,
    forward: null,
    tunnel: null,
    persistenceTimeout: null,
    persistenceGranularity: null,
    persistenceEngine: null,
    ops: false,
    schedFlags: [],
    ipFamily: null,
    delayLoop: null,
    inhibitOnFailure: false,
    weight: null,
    quorum: null,
    hysteresis: null,
    quorumUp: null,
    quorumDown: null,
    sorryServer: null,
    realServers: [],
  };
  for (const child of node.block.children) {
    const key = child.keyword;
    if (key !== "real_server") values.noBlock(child);
    switch (key) {
      case "real_server": {
        const rs = readRealServer(child, values);
        if (rs !== null) vs.realServers.push(rs);
        break;
      }
      case "protocol": {
        const p = child.args[0]?.toLowerCase();
        if (p === "tcp" || p === "udp" || p === "sctp") vs.protocol = p;
        else values.error(child, `unknown protocol ${JSON.stringify(child.args[0] ?? "")}`);
        break;
      }
      case "lb_algo":
      case "lvs_sched":
        if (child.args[0] === undefined) values.error(child, `${key} needs a scheduler`);
        else vs.scheduler = child.args[0];
        break;
      case "lb_kind":
      case "lvs_method": {
        const f = forwarding(child, values);
        if (f !== null) ({ forward: vs.forward, tunnel: vs.tunnel } = f);
        break;
      }
      case "persistence_timeout":
        vs.persistenceTimeout = child.args.length === 0 ? 300 : values.int(child, 0, 1, 2678400);
        break;
      case "persistence_granularity":
        if (child.args[0] === undefined) values.error(child, `${key} needs a netmask`);
        else vs.persistenceGranularity = child.args[0];
        break;
      case "persistence_engine":
        vs.persistenceEngine = child.args[0] ?? null;
        break;
      case "ops":
        vs.ops = true;
        break;
      case "sh-port":
      case "sh-fallback":
      case "mh-port":
      case "mh-fallback":
        // keepalived applies these only when the scheduler set above them matches.
        if (vs.scheduler === key.slice(0, 2)) vs.schedFlags.push(key);
        else
          values.warn(
            child,
            `${key} only applies to the ${key.slice(0, 2)} scheduler set before it: keepalived ignores it`,
          );
        break;
      case "ip_family": {
        const f = child.args[0];
        if (f === "inet" || f === "inet6") vs.ipFamily = f;
        else values.error(child, `ip_family ${JSON.stringify(f ?? "")} is neither inet nor inet6`);
        break;
      }
      case "delay_loop":
        vs.delayLoop = values.seconds(child);
        break;
      case "inhibit_on_failure":
        vs.inhibitOnFailure = values.flag(child);
        break;
      case "weight":
        vs.weight = values.weight(child);
        break;
      case "quorum":
        vs.quorum = values.int(child, 0, 1, 4294967295);
        break;
      case "hysteresis":
        vs.hysteresis = values.int(child, 0, 0, 4294967295);
        break;
      case "quorum_up":
        vs.quorumUp = child.args.join(" ");
        break;
      case "quorum_down":
        vs.quorumDown = child.args.join(" ");
        break;
      case "sorry_server":
        vs.sorryServer = readSorryServer(child, values);
        break;
      default:
        if (!VS_IGNORED.has(key)) values.error(child, `unknown keyword ${key} in virtual_server`);
    }
  }
  for (const child of node.block.children) {
    if (vs.sorryServer === null) break;
    if (child.keyword === "sorry_server_inhibit") vs.sorryServer.inhibit = true;
    if (child.keyword === "sorry_server_lvs_method") {
      vs.sorryServer.forward = forwarding(child, values)?.forward ?? null;
    }
  }
  return vs;
}

function readSorryServer(node: ConfigNode, values: ValueReader): SorryServer | null {
  const address = values.address(node, node.args[0], "sorry server address");
  const port = values.port(node, node.args[1], "sorry server");
  return address === null ? null : { node, address, port, forward: null, inhibit: false };
}

function readRealServer(node: ConfigNode, values: ValueReader): RealServer | null {
  const address = values.address(node, node.args[0], "real server address");
  const port = values.port(node, node.args[1], "real server");
  if (node.args.length > 2) values.error(node, "real_server takes an address and a port");
  if (address === null) return null;
  const rs: RealServer = {
    node,
    source: node.source,
    address,
    port,
    weight: null,
    forward: null,
    tunnel: null,
    inhibitOnFailure: null,
    upperThreshold: 0,
    lowerThreshold: 0,
    checkers: [],
  };
  for (const child of node.block?.children ?? []) {
    const key = child.keyword;
    if ((CHECKER_KINDS as readonly string[]).includes(key) || child.block !== null) {
      rs.checkers.push(readChecker(child, values));
      continue;
    }
    switch (key) {
      case "weight":
        rs.weight = values.weight(child);
        break;
      case "lvs_method": {
        const f = forwarding(child, values);
        if (f !== null) ({ forward: rs.forward, tunnel: rs.tunnel } = f);
        break;
      }
      case "inhibit_on_failure":
        rs.inhibitOnFailure = values.flag(child);
        break;
      case "uthreshold":
        rs.upperThreshold = values.int(child, 0, 0, 4294967295) ?? 0;
        break;
      case "lthreshold":
        rs.lowerThreshold = values.int(child, 0, 0, 4294967295) ?? 0;
        break;
      default:
        if (!RS_IGNORED.has(key)) values.error(child, `unknown keyword ${key} in real_server`);
    }
  }
  return rs;
}

function readChecker(node: ConfigNode, values: ValueReader): Checker {
  const known = (CHECKER_KINDS as readonly string[]).includes(node.keyword);
  if (!known) {
    values.warn(node, `unknown checker ${node.keyword}: kept as written, not interpreted`);
  }
  const checker: Checker = {
    kind: known ? (node.keyword as CheckerKind) : null,
    keyword: node.keyword,
    node,
    source: node.source,
    connectIp: null,
    connectPort: null,
    urls: [],
    miscPath: null,
    miscDynamic: false,
  };
  if (!known) return checker;
  for (const child of node.block?.children ?? []) {
    switch (child.keyword) {
      case "connect_ip":
        checker.connectIp = values.address(child, child.args[0], "connect_ip");
        break;
      case "connect_port":
        checker.connectPort = values.port(child, child.args[0], "connect_port");
        break;
      case "url":
        checker.urls.push(readUrl(child));
        break;
      case "misc_path":
        checker.miscPath = child.args.join(" ");
        break;
      case "misc_dynamic":
        checker.miscDynamic = values.flag(child);
        break;
      default:
        break;
    }
  }
  if (checker.kind === "MISC_CHECK" && checker.miscPath === null) {
    values.error(node, "MISC_CHECK has no misc_path: keepalived drops the checker");
  }
  return checker;
}

function readUrl(node: ConfigNode): CheckedUrl {
  const url: CheckedUrl = { path: null, digest: null, statusCode: null, source: node.source };
  for (const child of node.block?.children ?? []) {
    if (child.keyword === "path") url.path = child.args[0] ?? null;
    if (child.keyword === "digest") url.digest = child.args[0] ?? null;
    if (child.keyword === "status_code") url.statusCode = child.args.join(" ");
  }
  return url;
}

function rangeEntry(node: ConfigNode, values: ValueReader): VirtualServerGroupEntry | null {
  const [spec = "", portText] = node.args;
  const dash = spec.lastIndexOf("-");
  const firstText = dash > 0 ? spec.slice(0, dash) : spec;
  const first = values.address(node, firstText, "group address");
  const port = values.port(node, portText, "group entry") ?? 0;
  if (first === null) return null;
  if (dash <= 0) return { kind: "range", first, last: first, port, source: node.source };
  const endText = spec.slice(dash + 1);
  const v6 = first.includes(":");
  const end = v6 ? Number.parseInt(endText, 16) : Number(endText);
  const parts = v6 ? null : first.split(".");
  const lastPart = v6 ? Number.parseInt(first.split(":").pop() ?? "", 16) : Number(parts?.[3]);
  const max = v6 ? 0xffff : 255;
  if (!/^[0-9a-fA-F]+$/.test(endText) || Number.isNaN(end) || end > max || end < lastPart) {
    values.error(node, `address range ${JSON.stringify(spec)} does not end above its start`);
    return null;
  }
  const last = v6
    ? `${first.slice(0, first.lastIndexOf(":") + 1)}${end.toString(16)}`
    : `${parts?.slice(0, 3).join(".")}.${end}`;
  return { kind: "range", first, last, port, source: node.source };
}

export function readVirtualServerGroup(
  node: ConfigNode,
  values: ValueReader,
): VirtualServerGroup | null {
  const name = node.args[0];
  if (name === undefined || node.block === null) {
    values.error(node, "virtual_server_group needs a name and a { } block");
    return null;
  }
  const entries: VirtualServerGroupEntry[] = [];
  for (const child of node.block.children) {
    values.noBlock(child);
    if (child.keyword === "fwmark") {
      const mark = values.int(child, 0, 1, 4294967295);
      const f = child.args[1];
      const family =
        f === "inet6" || f === "IPv6" ? "inet6" : f === "inet" || f === "IPv4" ? "inet" : null;
      if (mark !== null) entries.push({ kind: "fwmark", mark, family, source: child.source });
      continue;
    }
    const entry = rangeEntry({ ...child, args: [child.keyword, ...child.args] }, values);
    if (entry !== null) entries.push(entry);
  }
  return { name, node, source: node.source, entries };
}
