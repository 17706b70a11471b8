/**
 * The entry point: text in, a positioned KeepalivedConfig out, with findings for what it
 * could not understand. Never throws on bad input unless the caller asks for strict.
 */
import { ConsoleError } from "@/server/errors";
import { type ConfigFiles } from "./lexer";
import { readVirtualServer, readVirtualServerGroup } from "./lvs";
import { formatSource } from "./source";
import { type ConfigNode, parseTree } from "./tree";
import {
  type GlobalDefs,
  type KeepalivedConfig,
  type VirtualAddress,
  type VrrpInstance,
  type VrrpSyncGroup,
} from "./types";
import { ValueReader } from "./values";

/** Top-level blocks keepalived knows that do not change what IPVS holds. */
const OTHER_TOP_LEVEL = new Set([
  "vrrp_script",
  "vrrp_track_file",
  "track_file",
  "vrrp_track_process",
  "track_process",
  "static_ipaddress",
  "static_routes",
  "static_rules",
  "static_track_group",
  "linkbeat_interfaces",
  "garp_group",
  "SSL",
  "bfd_instance",
  "net_namespace",
  "net_namespace_ipvs",
  "namespace_with_ipsets",
  "use_pid_dir",
  "instance",
  "child_wait_time",
]);

const VRRP_KNOWN = new Set([
  "use_vmac",
  "vmac_xmit_base",
  "native_ipv6",
  "dont_track_primary",
  "track_script",
  "track_file",
  "track_process",
  "track_bfd",
  "mcast_src_ip",
  "unicast_src_ip",
  "unicast_peer",
  "unicast_ttl",
  "authentication",
  "virtual_routes",
  "virtual_rules",
  "preempt_delay",
  "preempt",
  "garp_master_delay",
  "garp_master_repeat",
  "garp_master_refresh",
  "garp_master_refresh_repeat",
  "garp_lower_prio_delay",
  "garp_lower_prio_repeat",
  "notify",
  "notify_master",
  "notify_backup",
  "notify_fault",
  "notify_stop",
  "smtp_alert",
  "version",
  "accept",
  "no_accept",
  "strict_mode",
  "skip_check_adv_addr",
  "debug",
  "promote_secondaries",
  "lower_prio_no_advert",
  "higher_prio_send_advert",
  "down_timer_adverts",
  "kernel_rx_buf_size",
  "track_src_ip",
]);

export interface ParseOptions {
  /** Throw ConsoleError("PARSE_ERROR") on the first error finding instead of reporting it. */
  strict?: boolean;
}

function addresses(node: ConfigNode, values: ValueReader): VirtualAddress[] {
  const result: VirtualAddress[] = [];
  for (const child of node.block?.children ?? []) {
    const [text = "", prefixText] = child.keyword.split("/");
    const address = values.address(child, text, "virtual address");
    if (address === null) continue;
    const devIndex = child.args.indexOf("dev");
    const prefix =
      prefixText === undefined || !/^\d+$/.test(prefixText) ? null : Number(prefixText);
    if (prefixText !== undefined && prefix === null) {
      values.error(child, `prefix ${JSON.stringify(prefixText)} is not a prefix length`);
    }
    result.push({
      address,
      prefix,
      dev: devIndex < 0 ? null : (child.args[devIndex + 1] ?? null),
      source: child.source,
    });
  }
  if (node.block === null) values.error(node, `${node.keyword} needs a { } block`);
  return result;
}

function readVrrpInstance(node: ConfigNode, values: ValueReader): VrrpInstance | null {
  const name = node.args[0];
  if (name === undefined || node.block === null) {
    values.error(node, "vrrp_instance needs a name and a { } block");
    return null;
  }
  const vi: VrrpInstance = {
    name,
    node,
    source: node.source,
    state: null,
    interface: null,
    virtualRouterId: null,
    priority: null,
    advertInt: null,
    nopreempt: false,
    virtualIpaddress: [],
    virtualIpaddressExcluded: [],
    trackInterface: [],
    lvsSyncDaemonInterface: null,
  };
  for (const child of node.block.children) {
    switch (child.keyword) {
      case "state": {
        const state = child.args[0];
        if (state === "MASTER" || state === "BACKUP") vi.state = state;
        else
          values.error(child, `state ${JSON.stringify(state ?? "")} is neither MASTER nor BACKUP`);
        break;
      }
      case "interface":
        vi.interface = child.args[0] ?? null;
        break;
      case "virtual_router_id":
        vi.virtualRouterId = values.int(child, 0, 1, 255);
        break;
      case "priority":
        vi.priority = values.int(child, 0, 1, 255);
        break;
      case "advert_int":
        vi.advertInt = values.seconds(child);
        break;
      case "nopreempt":
        vi.nopreempt = true;
        break;
      case "virtual_ipaddress":
        vi.virtualIpaddress = addresses(child, values);
        break;
      case "virtual_ipaddress_excluded":
        vi.virtualIpaddressExcluded = addresses(child, values);
        break;
      case "track_interface":
        vi.trackInterface = (child.block?.children ?? []).map((c) => c.keyword);
        break;
      case "lvs_sync_daemon_interface":
        vi.lvsSyncDaemonInterface = child.args[0] ?? null;
        break;
      default:
        if (!VRRP_KNOWN.has(child.keyword)) {
          values.warn(child, `unknown keyword ${child.keyword} in vrrp_instance`);
        }
    }
  }
  return vi;
}

function readSyncGroup(node: ConfigNode, values: ValueReader): VrrpSyncGroup | null {
  const name = node.args[0];
  if (name === undefined || node.block === null) {
    values.error(node, "vrrp_sync_group needs a name and a { } block");
    return null;
  }
  const group = node.block.children.find((c) => c.keyword === "group");
  if (group?.block == null) values.error(node, `vrrp_sync_group ${name} has no group { } block`);
  const members = (group?.block?.children ?? []).flatMap((c) => [c.keyword, ...c.args]);
  return { name, node, source: node.source, members };
}

/** keepalived merges every global_defs block; a later setting wins. */
function readGlobalDefs(
  node: ConfigNode,
  values: ValueReader,
  previous: GlobalDefs | null,
): GlobalDefs {
  const defs: GlobalDefs = previous ?? {
    node,
    routerId: null,
    lvsSyncDaemon: null,
    lvsFlush: false,
  };
  for (const child of node.block?.children ?? []) {
    if (child.keyword === "router_id") defs.routerId = child.args[0] ?? null;
    if (child.keyword === "lvs_flush") defs.lvsFlush = true;
    if (child.keyword === "lvs_sync_daemon") {
      const [iface, second] = child.args;
      const option = (name: string) => child.args.indexOf(name, 1);
      if (iface === undefined) {
        values.error(child, "lvs_sync_daemon needs an interface");
        continue;
      }
      // 2.2.7 reads `inst NAME` and `id N`, and still the old positional `IF NAME [ID]`.
      const options = ["inst", "id", "maxlen", "port", "ttl", "group"];
      const positional = second !== undefined && !options.includes(second) ? second : null;
      const inst = option("inst");
      const id = option("id");
      defs.lvsSyncDaemon = {
        interface: iface,
        instance: inst > 0 ? (child.args[inst + 1] ?? null) : positional,
        syncId:
          id > 0
            ? values.int(child, id + 1, 0, 255)
            : positional !== null && child.args[2] !== undefined && !options.includes(child.args[2])
              ? values.int(child, 2, 0, 255)
              : null,
        source: child.source,
      };
    }
  }
  return defs;
}

/**
 * Parses `main` and everything it includes. `files` maps absolute paths to text (or is a
 * resolver); include globs are matched against its listing.
 */
export function parseKeepalivedConfig(
  main: string,
  files: ConfigFiles,
  options: ParseOptions = {},
): KeepalivedConfig {
  const tree = parseTree(main, files);
  const findings = [...tree.findings];
  const values = new ValueReader(findings);
  const config: KeepalivedConfig = {
    main,
    files: tree.files,
    tree: tree.nodes,
    includes: tree.includes,
    globalDefs: null,
    vrrpInstances: [],
    syncGroups: [],
    virtualServerGroups: [],
    virtualServers: [],
    findings,
  };
  for (const node of tree.nodes) {
    switch (node.keyword) {
      case "global_defs":
        config.globalDefs = readGlobalDefs(node, values, config.globalDefs);
        break;
      case "vrrp_instance": {
        const vi = readVrrpInstance(node, values);
        if (vi !== null) config.vrrpInstances.push(vi);
        break;
      }
      case "vrrp_sync_group": {
        const group = readSyncGroup(node, values);
        if (group !== null) config.syncGroups.push(group);
        break;
      }
      case "virtual_server_group": {
        const group = readVirtualServerGroup(node, values);
        if (group !== null) config.virtualServerGroups.push(group);
        break;
      }
      case "virtual_server": {
        const vs = readVirtualServer(node, values);
        if (vs !== null) config.virtualServers.push(vs);
        break;
      }
      default:
        if (!OTHER_TOP_LEVEL.has(node.keyword)) {
          values.error(node, `unknown keyword ${node.keyword}: keepalived ignores it`);
        }
    }
  }
  findings.sort((a, b) => (a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1));
  const firstError = findings.find((f) => f.severity === "error");
  if (options.strict === true && firstError !== undefined) {
    throw new ConsoleError(
      "PARSE_ERROR",
      `keepalived config, ${formatSource(firstError)}: ${firstError.message}`,
      { source: "keepalived config", file: firstError.file, lineNumber: firstError.line },
    );
  }
  return config;
}
