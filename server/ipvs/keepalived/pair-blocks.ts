/**
 * The virtual_server blocks of two directors' keepalived configs, compared and copied:
 * "make B like A" for keepalived-owned services. Only virtual_server blocks are compared
 * (the pair's VRRP settings differ on purpose: state, priority). Two blocks are the same
 * when their words are (comments, indentation and brace style do not count), so two
 * directors written in different styles compare equal.
 *
 * Copying puts the source's block text, as written, in place of the target's (or appends it
 * to the target's file of the same path, else the file holding its last virtual_server),
 * and removes the target's blocks the source does not have. Everything else in the target's
 * files stays byte for byte. Pure: both configs come parsed from the caller.
 */
import { formatServiceKey, sameServiceKey, type ServiceKey } from "@/server/ipvs/model";
import {
  guard,
  refuse,
  runEdit,
  wholeLines,
  withBlankBefore,
  type EditResult,
} from "./edit-support";
import { programmedServices, type ProgrammedService } from "./program";
import type { TextEdit } from "./text";
import type { ConfigNode } from "./tree";
import type { KeepalivedConfig } from "./types";

export interface VsBlock {
  key: ServiceKey;
  file: string;
  line: number;
  /** The block's whole lines, as written. */
  text: string;
  /** Its words (comments and layout dropped), for comparison. */
  words: string;
  /** A `virtual_server group` block: it programs several services. */
  group: boolean;
  service: ProgrammedService;
}

export type BlockStatus = "same" | "differs" | "only-source" | "only-target";

export interface BlockDiff {
  key: ServiceKey;
  name: string;
  status: BlockStatus;
  source: { file: string; line: number; text: string } | null;
  target: { file: string; line: number; text: string } | null;
}

function words(node: ConfigNode): string[] {
  const own = node.tokens.map((t) => t.value);
  if (node.block === null) return own;
  return [...own, "{", ...node.block.children.flatMap((c) => [...words(c), ";"]), "}"];
}

function substituted(node: ConfigNode): boolean {
  return (
    node.tokens.some((t) => t.substituted) || (node.block?.children.some(substituted) ?? false)
  );
}

export function virtualServerBlocks(config: KeepalivedConfig): VsBlock[] {
  return programmedServices(config).services.map((service) => {
    const node = service.virtualServer.node;
    const text = config.files[node.source.file] ?? "";
    const range = wholeLines(text, node);
    return {
      key: service.key,
      file: node.source.file,
      line: node.source.line,
      text: text.slice(range.start, range.end),
      words: words(node).join(" "),
      group: service.groupEntry !== null,
      service,
    };
  });
}

const ref = (b: VsBlock | undefined) =>
  b === undefined ? null : { file: b.file, line: b.line, text: b.text };

/** Every virtual_server of either config: the source's order, then the target's own. */
export function diffBlocks(
  source: KeepalivedConfig | null,
  target: KeepalivedConfig | null,
): BlockDiff[] {
  const a = source === null ? [] : virtualServerBlocks(source);
  const b = target === null ? [] : virtualServerBlocks(target);
  const out: BlockDiff[] = [];
  for (const s of a) {
    const t = b.find((x) => sameServiceKey(x.key, s.key));
    const status = t === undefined ? "only-source" : t.words === s.words ? "same" : "differs";
    out.push({ key: s.key, name: formatServiceKey(s.key), status, source: ref(s), target: ref(t) });
  }
  for (const t of b) {
    if (a.some((s) => sameServiceKey(s.key, t.key))) continue;
    out.push({
      key: t.key,
      name: formatServiceKey(t.key),
      status: "only-target",
      source: null,
      target: ref(t),
    });
  }
  return out;
}

function copyable(config: KeepalivedConfig, block: VsBlock): void {
  if (block.group) {
    refuse(
      "layout-not-supported",
      `${formatServiceKey(block.key)} comes from a virtual_server group: copy the group by hand`,
      block,
    );
  }
  guard(config, block.service.virtualServer.node);
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** The target file for a block the target does not have. */
function fileFor(target: KeepalivedConfig, sourceFile: string): string {
  if (target.files[sourceFile] !== undefined) return sourceFile;
  return target.virtualServers[target.virtualServers.length - 1]?.source.file ?? target.main;
}

/** The edits that make `target`'s virtual_server blocks those of `source`. */
export function copyBlocks(source: KeepalivedConfig, target: KeepalivedConfig): EditResult {
  const a = virtualServerBlocks(source);
  const b = virtualServerBlocks(target);
  return runEdit(target, () => {
    const edits: TextEdit[] = [];
    const appends = new Map<string, string[]>();
    for (const s of a) {
      const t = b.find((x) => sameServiceKey(x.key, s.key));
      if (t !== undefined && t.words === s.words) continue;
      copyable(source, s);
      if (substituted(s.service.virtualServer.node)) {
        refuse(
          "uses-definition",
          `${formatServiceKey(s.key)} uses a $definition: the other director may define it differently`,
          s,
        );
      }
      if (t === undefined) {
        const file = fileFor(target, s.file);
        appends.set(file, [...(appends.get(file) ?? []), withNewline(s.text)]);
        continue;
      }
      copyable(target, t);
      const text = target.files[t.file] ?? "";
      const range = wholeLines(text, t.service.virtualServer.node);
      const replaced = text.slice(range.start, range.end);
      edits.push({
        file: t.file,
        ...range,
        text: replaced.endsWith("\n") ? withNewline(s.text) : s.text.replace(/\n$/, ""),
      });
    }
    for (const t of b) {
      if (a.some((s) => sameServiceKey(s.key, t.key))) continue;
      copyable(target, t);
      const text = target.files[t.file] ?? "";
      const range = wholeLines(text, t.service.virtualServer.node);
      edits.push({ file: t.file, start: withBlankBefore(text, range), end: range.end, text: "" });
    }
    for (const [file, blocks] of appends) {
      const text = target.files[file];
      if (text === undefined) refuse("not-found", `${file} is not a file of this config`);
      const lead = text === "" ? "" : text.endsWith("\n") ? "\n" : "\n\n";
      edits.push({ file, start: text.length, end: text.length, text: lead + blocks.join("\n") });
    }
    return edits;
  });
}
