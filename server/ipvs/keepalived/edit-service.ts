/** Minimal edits of virtual_server blocks: change its settings, add one, delete one. */
import {
  canonicalAddress,
  type ForwardMethod,
  formatServiceKey,
  PERSISTENCE_MAX,
  type Persistence,
  type Protocol,
  type Scheduler,
  schedulerSchema,
  type ServiceKey,
  sameServiceKey,
  WEIGHT_MAX,
} from "@/server/ipvs/model";
import { setStatement } from "./edit-realserver";
import {
  type EditResult,
  findService,
  guard,
  indentUnit,
  literal,
  refuse,
  runEdit,
  wholeLines,
  withBlankBefore,
} from "./edit-support";
import { programmedServices } from "./program";
import { indentAt, lineEnd, startsLine, type TextEdit } from "./text";
import { type ConfigNode } from "./tree";
import { type KeepalivedConfig } from "./types";

const LB_KIND: Record<ForwardMethod, string> = { masq: "NAT", route: "DR", tunnel: "TUN" };

export interface ServiceChanges {
  scheduler?: Scheduler;
  forward?: ForwardMethod;
  /** null removes persistence (persistence_timeout and persistence_granularity). */
  persistence?: Persistence | null;
  protocol?: Protocol;
}

/** Sets `keyword value` in a virtual_server: in place, or as a new line after its last setting. */
function setField(
  text: string,
  node: ConfigNode,
  keyword: string,
  value: string,
  aliases: string[] = [],
): TextEdit {
  const children = node.block?.children ?? [];
  const existing = children.some((c) => c.keyword === keyword || aliases.includes(c.keyword));
  const firstMember = children.findIndex((c) => c.keyword === "real_server");
  const settings = (firstMember < 0 ? children : children.slice(0, firstMember)).filter(
    (c) => c.block === null && startsLine(text, c.source.start),
  );
  const last = settings[settings.length - 1];
  if (existing || last === undefined) return setStatement(text, node, keyword, value, aliases);
  const at = lineEnd(text, last.source.end);
  return {
    file: node.source.file,
    start: at,
    end: at,
    text: `${indentAt(text, last.source.start)}${keyword} ${value}\n`,
  };
}

function removeField(text: string, node: ConfigNode, keyword: string): TextEdit[] {
  return (node.block?.children ?? [])
    .filter((c) => c.keyword === keyword)
    .map((c) => {
      for (const token of c.tokens) literal(token, keyword, c);
      return { file: node.source.file, ...wholeLines(text, c), text: "" };
    });
}

export function editService(
  config: KeepalivedConfig,
  key: ServiceKey,
  changes: ServiceChanges,
): EditResult {
  return runEdit(config, (notes) => {
    const service = findService(config, key);
    const node = service.virtualServer.node;
    const text = config.files[node.source.file] ?? "";
    if (service.groupEntry !== null)
      notes.push("the virtual_server is a group: the change applies to every service of the group");
    const edits: TextEdit[] = [];
    if (changes.scheduler !== undefined) {
      if (!schedulerSchema.safeParse(changes.scheduler).success)
        refuse("invalid-value", `unknown scheduler ${changes.scheduler}`);
      edits.push(setField(text, node, "lb_algo", changes.scheduler, ["lvs_sched"]));
    }
    if (changes.forward !== undefined) {
      edits.push(setField(text, node, "lb_kind", LB_KIND[changes.forward], ["lvs_method"]));
      const own = service.virtualServer.realServers.filter((r) => r.forward !== null);
      if (own.length > 0)
        notes.push(`${own.length} real_server(s) set their own lvs_method and keep it`);
    }
    if (changes.protocol !== undefined) {
      if (key.kind === "fwm") refuse("invalid-value", "a firewall-mark service has no protocol");
      edits.push(setField(text, node, "protocol", changes.protocol.toUpperCase()));
    }
    if (changes.persistence === null) {
      edits.push(
        ...removeField(text, node, "persistence_timeout"),
        ...removeField(text, node, "persistence_granularity"),
      );
      if (key.kind !== "fwm" && key.port === 0)
        notes.push("keepalived keeps persistence on a port-0 service (300 s)");
    } else if (changes.persistence !== undefined) {
      const { timeout, netmask } = changes.persistence;
      if (!Number.isInteger(timeout) || timeout < 1 || timeout > PERSISTENCE_MAX) {
        refuse(
          "invalid-value",
          `a persistence timeout is a whole number of seconds from 1 to ${PERSISTENCE_MAX}`,
        );
      }
      edits.push(setField(text, node, "persistence_timeout", String(timeout)));
      if (netmask === null) edits.push(...removeField(text, node, "persistence_granularity"));
      else edits.push(setField(text, node, "persistence_granularity", String(netmask)));
    }
    return mergeInsertions(edits);
  });
}

/** Several new lines at one spot go in the order asked. */
function mergeInsertions(edits: TextEdit[]): TextEdit[] {
  const merged: TextEdit[] = [];
  for (const e of edits) {
    const same = merged.find(
      (m) => m.start === e.start && m.end === e.end && m.start === m.end && e.start === e.end,
    );
    if (same === undefined) merged.push({ ...e });
    else same.text += e.text;
  }
  return merged;
}

export interface NewVirtualServer {
  key: ServiceKey;
  scheduler: Scheduler;
  forward: ForwardMethod;
  persistence: Persistence | null;
  delayLoop?: number;
  realservers: Array<{ address: string; port: number; weight: number }>;
}

function targetText(key: ServiceKey): string {
  return key.kind === "fwm" ? `fwmark ${key.mark}` : `${key.address} ${key.port}`;
}

/** Appends a virtual_server in the file's style (indentation, braces on their own line or not). */
export function addVirtualServer(
  config: KeepalivedConfig,
  spec: NewVirtualServer,
  file?: string,
): EditResult {
  return runEdit(config, (notes) => {
    if (programmedServices(config).services.some((s) => sameServiceKey(s.key, spec.key))) {
      refuse("already-exists", `keepalived's config already has ${formatServiceKey(spec.key)}`);
    }
    if (spec.realservers.length === 0)
      refuse("invalid-value", "keepalived ignores a virtual_server without real_servers");
    const target =
      file ?? config.virtualServers[config.virtualServers.length - 1]?.source.file ?? config.main;
    const text = config.files[target];
    if (text === undefined) refuse("not-found", `${target} is not a file of this config`);
    const top = config.tree.filter((n) => n.source.file === target);
    for (const node of top) guard(config, node);
    const u = indentUnit(text, top);
    const ownLine = top.some((n) => n.block !== null && !startsLine(text, n.block.open.start))
      ? false
      : top.some((n) => n.block !== null);
    const open = (indent: string) => (ownLine ? `\n${indent}{` : " {");
    const lines = [`virtual_server ${targetText(spec.key)}${open("")}`];
    lines.push(
      `${u}delay_loop ${spec.delayLoop ?? 6}`,
      `${u}lb_algo ${spec.scheduler}`,
      `${u}lb_kind ${LB_KIND[spec.forward]}`,
    );
    if (spec.key.kind !== "fwm") lines.push(`${u}protocol ${spec.key.kind.toUpperCase()}`);
    else if (spec.key.family === "inet6") lines.push(`${u}ip_family inet6`);
    if (spec.persistence !== null) {
      lines.push(`${u}persistence_timeout ${spec.persistence.timeout}`);
      if (spec.persistence.netmask !== null)
        lines.push(`${u}persistence_granularity ${spec.persistence.netmask}`);
    }
    for (const rs of spec.realservers) {
      const address = canonicalAddress(rs.address);
      if (
        address === null ||
        !Number.isInteger(rs.weight) ||
        rs.weight < 0 ||
        rs.weight > WEIGHT_MAX
      ) {
        refuse(
          "invalid-value",
          `real server ${rs.address}:${rs.port} weight ${rs.weight} is not valid`,
        );
      }
      lines.push(
        "",
        `${u}real_server ${address} ${rs.port}${open(u)}`,
        `${u}${u}weight ${rs.weight}`,
        `${u}}`,
      );
    }
    lines.push("}");
    notes.push("the new virtual_server has no checkers: keepalived holds its real servers up");
    const lead =
      text === "" ? "" : text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
    return [
      { file: target, start: text.length, end: text.length, text: `${lead}${lines.join("\n")}\n` },
    ];
  });
}

export function deleteVirtualServer(config: KeepalivedConfig, key: ServiceKey): EditResult {
  return runEdit(config, () => {
    const service = findService(config, key);
    if (service.groupEntry !== null) {
      refuse(
        "layout-not-supported",
        "the virtual_server is a group: deleting it deletes every service of the group",
        service.source,
      );
    }
    const node = service.virtualServer.node;
    const text = config.files[node.source.file] ?? "";
    const range = wholeLines(text, node);
    const start = withBlankBefore(text, range);
    return [{ file: node.source.file, start, end: range.end, text: "" }];
  });
}
