/** The keepalived config as written (before keepalived fills its defaults), with positions. */
import { type ForwardMethod, type SchedFlag } from "@/server/ipvs/model";
import { type IncludeRef } from "./lexer";
import { type Finding, type SourceRef } from "./source";
import { type ConfigNode } from "./tree";

export const CHECKER_KINDS = [
  "HTTP_GET",
  "SSL_GET",
  "TCP_CHECK",
  "MISC_CHECK",
  "DNS_CHECK",
  "SMTP_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "FILE_CHECK",
  "BFD_CHECK",
] as const;
export type CheckerKind = (typeof CHECKER_KINDS)[number];

export interface CheckedUrl {
  path: string | null;
  digest: string | null;
  statusCode: string | null;
  source: SourceRef;
}

export interface Checker {
  /** null for a block the parser does not know; it is kept, positioned, and not interpreted. */
  kind: CheckerKind | null;
  keyword: string;
  node: ConfigNode;
  source: SourceRef;
  connectIp: string | null;
  connectPort: number | null;
  urls: CheckedUrl[];
  miscPath: string | null;
  /** MISC_CHECK misc_dynamic: the script's exit code sets the weight. */
  miscDynamic: boolean;
}

export interface TunnelSetting {
  type: "ipip" | "gue" | "gre";
  port: number | null;
  noChecksum: boolean;
}

export interface RealServer {
  node: ConfigNode;
  source: SourceRef;
  address: string;
  /** As written; null when the line gives no port. */
  port: number | null;
  weight: number | null;
  forward: ForwardMethod | null;
  tunnel: TunnelSetting | null;
  /** null: not set here, the virtual server's setting applies. */
  inhibitOnFailure: boolean | null;
  upperThreshold: number;
  lowerThreshold: number;
  checkers: Checker[];
}

export interface SorryServer {
  node: ConfigNode;
  address: string;
  port: number | null;
  forward: ForwardMethod | null;
  inhibit: boolean;
}

export type VirtualServerTarget =
  | { kind: "address"; address: string; port: number }
  | { kind: "fwmark"; mark: number }
  | { kind: "group"; name: string };

export interface VirtualServer {
  node: ConfigNode;
  source: SourceRef;
  target: VirtualServerTarget;
  protocol: "tcp" | "udp" | "sctp" | null;
  /** As written; null when absent (keepalived then uses wlc). */
  scheduler: string | null;
  forward: ForwardMethod | null;
  tunnel: TunnelSetting | null;
  /** Seconds; a bare `persistence_timeout` means keepalived's default 300. */
  persistenceTimeout: number | null;
  /** Dotted IPv4 mask or IPv6 prefix length, as written. */
  persistenceGranularity: string | null;
  persistenceEngine: string | null;
  ops: boolean;
  schedFlags: SchedFlag[];
  ipFamily: "inet" | "inet6" | null;
  delayLoop: number | null;
  inhibitOnFailure: boolean;
  /** Default weight of its realservers (keepalived's virtual_server `weight`). */
  weight: number | null;
  quorum: number | null;
  hysteresis: number | null;
  quorumUp: string | null;
  quorumDown: string | null;
  sorryServer: SorryServer | null;
  realServers: RealServer[];
}

export type VirtualServerGroupEntry =
  | {
      kind: "range";
      /** First and last address; equal for a single address. */
      first: string;
      last: string;
      port: number;
      source: SourceRef;
    }
  | { kind: "fwmark"; mark: number; family: "inet" | "inet6" | null; source: SourceRef };

export interface VirtualServerGroup {
  name: string;
  node: ConfigNode;
  source: SourceRef;
  entries: VirtualServerGroupEntry[];
}

export interface VirtualAddress {
  address: string;
  prefix: number | null;
  dev: string | null;
  source: SourceRef;
}

export interface VrrpInstance {
  name: string;
  node: ConfigNode;
  source: SourceRef;
  state: "MASTER" | "BACKUP" | null;
  interface: string | null;
  virtualRouterId: number | null;
  priority: number | null;
  advertInt: number | null;
  nopreempt: boolean;
  virtualIpaddress: VirtualAddress[];
  virtualIpaddressExcluded: VirtualAddress[];
  trackInterface: string[];
  /** `lvs_sync_daemon_interface` (old style) in the instance. */
  lvsSyncDaemonInterface: string | null;
}

export interface VrrpSyncGroup {
  name: string;
  node: ConfigNode;
  source: SourceRef;
  members: string[];
}

export interface LvsSyncDaemon {
  interface: string;
  /** The VRRP instance whose state decides master or backup. */
  instance: string | null;
  syncId: number | null;
  source: SourceRef;
}

export interface GlobalDefs {
  node: ConfigNode;
  routerId: string | null;
  lvsSyncDaemon: LvsSyncDaemon | null;
  /** `lvs_flush`: keepalived empties IPVS when it starts, runtime-only rules included. */
  lvsFlush: boolean;
}

export interface KeepalivedConfig {
  main: string;
  /** Text of every file read, by absolute path. */
  files: Record<string, string>;
  tree: ConfigNode[];
  includes: IncludeRef[];
  globalDefs: GlobalDefs | null;
  vrrpInstances: VrrpInstance[];
  syncGroups: VrrpSyncGroup[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  findings: Finding[];
}
