/**
 * Minimal edits of real_server blocks: set a weight, add a realserver with its sibling's
 * checker, remove one. Everything outside the touched statement stays byte for byte.
 */
import { canonicalAddress, type ServiceKey, WEIGHT_MAX } from "@/server/ipvs/model";
import {
  type EditResult,
  findRealserver,
  findService,
  guard,
  innerIndent,
  indentUnit,
  literal,
  refuse,
  runEdit,
  wholeLines,
  withBlankBefore,
} from "./edit-support";
import { indentAt, lineEnd, lineStart, startsLine, type TextEdit } from "./text";
import { type ConfigNode, walk } from "./tree";
import { type KeepalivedConfig } from "./types";

function checkWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > WEIGHT_MAX) {
    refuse("invalid-value", `a weight is a whole number from 0 to ${WEIGHT_MAX}`);
  }
}

/** Edits that make `node`'s block hold `keyword value`: replace the last such line, or add one. */
export function setStatement(
  text: string,
  node: ConfigNode,
  keyword: string,
  value: string,
  aliases: string[] = [],
): TextEdit {
  const file = node.source.file;
  const block = node.block;
  if (block === null)
    refuse("layout-not-supported", `${node.keyword} has no { } block`, node.source);
  const existing = block.children
    .filter((c) => c.keyword === keyword || aliases.includes(c.keyword))
    .pop();
  if (existing !== undefined) {
    const keywordToken = existing.tokens[0];
    if (existing.tokens.length === 1 && keywordToken !== undefined) {
      // A bare keyword (`persistence_timeout` alone means 300 s): give it the value.
      return { file, start: keywordToken.end, end: keywordToken.end, text: ` ${value}` };
    }
    const first = literal(existing.tokens[1], existing.keyword, existing);
    for (const token of existing.tokens.slice(2)) literal(token, existing.keyword, existing);
    const last = existing.tokens[existing.tokens.length - 1] ?? first;
    return { file, start: first.start, end: last.end, text: value };
  }
  const line = `${keyword} ${value}`;
  const firstChild = block.children[0];
  if (
    firstChild !== undefined &&
    startsLine(text, firstChild.source.start) &&
    firstChild.source.start > block.open.end
  ) {
    const at = lineStart(text, firstChild.source.start);
    return {
      file,
      start: at,
      end: at,
      text: `${indentAt(text, firstChild.source.start)}${line}\n`,
    };
  }
  const close = block.close;
  if (
    close !== null &&
    lineStart(text, close.start) > block.open.start &&
    firstChild === undefined
  ) {
    const at = lineEnd(text, block.open.end);
    const indent = indentAt(text, close.start) + indentUnit(text);
    return { file, start: at, end: at, text: `${indent}${line}\n` };
  }
  if (firstChild === undefined)
    return { file, start: block.open.end, end: block.open.end, text: ` ${line}` };
  // Children on the brace's line: a statement ends at a line end or a brace, so add a line.
  const indent = innerIndent(text, node);
  return {
    file,
    start: block.open.end,
    end: block.open.end,
    text: `\n${indent}${line}\n${indent}`,
  };
}

export function setRealserverWeight(
  config: KeepalivedConfig,
  key: ServiceKey,
  endpoint: { address: string; port: number },
  weight: number,
): EditResult {
  return runEdit(config, (notes) => {
    checkWeight(weight);
    const service = findService(config, key);
    const rs = findRealserver(service, endpoint);
    const text = config.files[rs.source.file] ?? "";
    if (service.groupEntry !== null) {
      notes.push("the virtual_server is a group: the weight applies to every service of the group");
    }
    return [setStatement(text, rs.realServer.node, "weight", String(weight))];
  });
}

/** Replaces `from` with `to` inside a token's raw text, where it stands as a whole word. */
function replaceWord(raw: string, from: string, to: string): string {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return raw.replace(
    new RegExp(`(^|[^0-9A-Za-z.:])${escaped}(?=$|[^0-9A-Za-z.:])`, "g"),
    `$1${to}`,
  );
}

export function addRealserver(
  config: KeepalivedConfig,
  key: ServiceKey,
  member: { address: string; port: number; weight: number },
): EditResult {
  return runEdit(config, (notes) => {
    checkWeight(member.weight);
    const address = canonicalAddress(member.address);
    if (address === null)
      refuse("invalid-value", `${JSON.stringify(member.address)} is not an address`);
    const service = findService(config, key);
    if (service.realservers.some((r) => r.address === address && r.port === member.port)) {
      refuse(
        "already-exists",
        `real_server ${address}:${member.port} is already in this virtual_server`,
        service.source,
      );
    }
    const vs = service.virtualServer;
    // The copy goes right after the last sibling, in its file (an include may hold them).
    const sibling = vs.realServers.filter((r) => r.node.block?.close != null).pop();
    const file = sibling?.source.file ?? vs.source.file;
    const text = config.files[file] ?? "";
    if (sibling === undefined) {
      const close = vs.node.block?.close;
      if (close == null || !startsLine(text, close.start)) {
        refuse(
          "layout-not-supported",
          "the virtual_server's closing brace does not stand on its own line",
          vs.source,
        );
      }
      const indent = innerIndent(text, vs.node);
      const unit = indentUnit(text);
      const at = lineStart(text, close.start);
      notes.push("no sibling real_server to copy a checker from: the new one has none");
      return [
        {
          file,
          start: at,
          end: at,
          text: `${indent}real_server ${address} ${member.port} {\n${indent}${unit}weight ${member.weight}\n${indent}}\n`,
        },
      ];
    }
    guard(config, sibling.node);
    const range = wholeLines(text, sibling.node);
    const segment = text.slice(range.start, range.end);
    const local: TextEdit[] = [];
    const shift = (t: { start: number; end: number }, value: string): void => {
      local.push({ file, start: t.start - range.start, end: t.end - range.start, text: value });
    };
    const [, addressToken, portToken] = sibling.node.tokens;
    if (
      addressToken === undefined ||
      (portToken !== undefined && portToken.start === addressToken.start)
    ) {
      refuse(
        "uses-definition",
        "the sibling real_server's address and port come from one $definition",
        sibling.source,
      );
    }
    shift(addressToken, address);
    if (portToken !== undefined) shift(portToken, String(member.port));
    else shift({ start: addressToken.end, end: addressToken.end }, ` ${member.port}`);
    const oldPort = sibling.port === null ? null : String(sibling.port);
    for (const node of walk(sibling.node.block?.children ?? [])) {
      if (node.keyword === "weight") {
        const [, first] = node.tokens;
        const last = node.tokens[node.tokens.length - 1];
        if (first !== undefined && last !== undefined) {
          // The sibling's comment on its weight line is about the sibling: not copied.
          const rest = text.slice(last.end, lineEnd(text, last.end)).replace(/\r?\n$/, "");
          const end = /^[ \t]*[#!]/.test(rest) ? last.end + rest.length : last.end;
          shift({ start: first.start, end }, String(member.weight));
        }
        continue;
      }
      for (const token of node.tokens.slice(1)) {
        const raw = text.slice(token.start, token.end);
        if (
          token.substituted &&
          replaceWord(token.value, sibling.address, address) !== token.value
        ) {
          refuse(
            "uses-definition",
            `${node.keyword} of the sibling real_server names its address through a $definition`,
            node.source,
          );
        }
        let next = replaceWord(raw, sibling.address, address);
        if (node.keyword === "connect_port" && raw === oldPort) next = String(member.port);
        if (next !== raw) shift(token, next);
      }
    }
    if (!(sibling.node.block?.children ?? []).some((c) => c.keyword === "weight")) {
      const weightEdit = setStatement(text, sibling.node, "weight", String(member.weight));
      shift(weightEdit, weightEdit.text);
    }
    const copy = local
      .sort((x, y) => y.start - x.start || y.end - x.end)
      .reduce((out, e) => out.slice(0, e.start) + e.text + out.slice(e.end), segment);
    const separated = /\n[ \t]*\n$/.test(text.slice(0, range.start));
    const kinds = sibling.checkers.map((c) => c.keyword);
    notes.push(
      kinds.length === 0
        ? `copied real_server ${sibling.address} (it has no checker)`
        : `copied the ${kinds.join(", ")} of real_server ${sibling.address}, with the address changed`,
    );
    const body = copy.endsWith("\n") ? copy : `${copy}\n`;
    return [{ file, start: range.end, end: range.end, text: `${separated ? "\n" : ""}${body}` }];
  });
}

export function removeRealserver(
  config: KeepalivedConfig,
  key: ServiceKey,
  endpoint: { address: string; port: number },
): EditResult {
  return runEdit(config, () => {
    const service = findService(config, key);
    const rs = findRealserver(service, endpoint);
    if (service.virtualServer.realServers.length === 1) {
      refuse(
        "last-realserver",
        "this is the virtual_server's last real_server: keepalived drops a virtual_server without any; delete the service instead",
        rs.source,
      );
    }
    guard(config, rs.realServer.node);
    const text = config.files[rs.source.file] ?? "";
    const range = wholeLines(text, rs.realServer.node);
    const start = withBlankBefore(text, range);
    return [{ file: rs.source.file, start, end: range.end, text: "" }];
  });
}
