/**
 * What every config edit shares: finding the block a service key names, refusing to edit a
 * block the parser did not fully understand, and turning text edits into new file texts
 * plus the changed lines a preview shows.
 */
import { ConsoleError, type EditRefusal } from "@/server/errors";
import {
  sameEndpoint,
  sameServiceKey,
  type ServiceKey,
  formatServiceKey,
} from "@/server/ipvs/model";
import { type ProgrammedRealserver, type ProgrammedService, programmedServices } from "./program";
import { formatSource } from "./source";
import { type Token } from "./lexer";
import {
  applyEdits,
  type ChangedLines,
  diffLines,
  endsLine,
  indentAt,
  lineEnd,
  lineStart,
  startsLine,
  type TextEdit,
} from "./text";
import { type ConfigNode } from "./tree";
import { type KeepalivedConfig } from "./types";

export type { EditRefusal };

export interface FileChange {
  file: string;
  before: string;
  after: string;
  changes: ChangedLines[];
}

export type EditResult =
  { ok: true; files: FileChange[]; notes: string[] } | { ok: false; error: ConsoleError };

export class EditRefused extends Error {
  constructor(
    readonly reason: EditRefusal,
    message: string,
    readonly at: { file: string; line: number } | null = null,
  ) {
    super(message);
  }
}

export function refuse(
  reason: EditRefusal,
  message: string,
  at: { file: string; line: number } | null = null,
): never {
  throw new EditRefused(reason, message, at);
}

/** Runs an edit; a refusal becomes a REFUSED ConsoleError naming the reason and the place. */
export function runEdit(
  config: KeepalivedConfig,
  build: (notes: string[]) => TextEdit[],
): EditResult {
  const notes: string[] = [];
  try {
    const edits = build(notes);
    const byFile = new Map<string, TextEdit[]>();
    for (const e of edits) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
    const files: FileChange[] = [];
    for (const [file, list] of byFile) {
      const before = config.files[file] ?? "";
      // New lines follow the file's line ends.
      const crlf = before.includes("\r\n");
      const after = applyEdits(
        before,
        crlf ? list.map((e) => ({ ...e, text: e.text.replace(/\r?\n/g, "\r\n") })) : list,
      );
      if (after !== before)
        files.push({ file, before, after, changes: diffLines(file, before, after) });
    }
    return { ok: true, files, notes };
  } catch (error) {
    if (!(error instanceof EditRefused)) throw error;
    const where = error.at === null ? "" : ` (${formatSource(error.at)})`;
    return {
      ok: false,
      error: new ConsoleError("REFUSED", `${error.message}${where}`, {
        reason: error.reason,
        file: error.at?.file ?? null,
        line: error.at?.line ?? null,
      }),
    };
  }
}

function topLevelOf(config: KeepalivedConfig, file: string, offset: number): ConfigNode | null {
  return (
    config.tree.find(
      (n) => n.source.file === file && n.source.start <= offset && offset < n.source.end,
    ) ?? null
  );
}

/**
 * Refuses when an error finding lies in the same top-level block as `node`, or at the top
 * level of its file (an extra '}' there shifts every block after it).
 */
export function guard(config: KeepalivedConfig, node: ConfigNode): void {
  const file = node.source.file;
  const top = topLevelOf(config, file, node.source.start);
  for (const f of config.findings) {
    if (f.severity !== "error" || f.file !== file) continue;
    const holder = topLevelOf(config, file, f.offset);
    if (holder === null || holder === top) {
      refuse("config-has-findings", `the config cannot be edited here: ${f.message}`, f);
    }
  }
  const block = node.block;
  if (
    block !== null &&
    (block.close === null || block.open.file !== file || block.close.file !== file)
  ) {
    refuse(
      "layout-not-supported",
      `the block of ${node.keyword} does not open and close in ${file}`,
      node.source,
    );
  }
}

export function literal(token: Token | undefined, what: string, at: ConfigNode): Token {
  if (token === undefined)
    refuse("layout-not-supported", `${what} has no value to change`, at.source);
  if (token.substituted)
    refuse(
      "uses-definition",
      `${what} comes from a $definition; edit the definition instead`,
      at.source,
    );
  return token;
}

export function findService(config: KeepalivedConfig, key: ServiceKey): ProgrammedService {
  const service = programmedServices(config).services.find((s) => sameServiceKey(s.key, key));
  if (service === undefined)
    refuse("not-found", `keepalived's config has no virtual_server for ${formatServiceKey(key)}`);
  guard(config, service.virtualServer.node);
  return service;
}

export function findRealserver(
  service: ProgrammedService,
  endpoint: { address: string; port: number },
): ProgrammedRealserver {
  const rs = service.realservers.find((r) => sameEndpoint(r, endpoint));
  if (rs === undefined) {
    refuse(
      "not-found",
      `the virtual_server at ${formatSource(service.source)} has no real_server ${endpoint.address}:${endpoint.port}`,
    );
  }
  return rs;
}

/** The range of whole lines a statement (and its block) covers, when it has lines of its own. */
export function wholeLines(text: string, node: ConfigNode): { start: number; end: number } {
  const close = node.block?.close ?? null;
  const endOffset = close?.end ?? node.source.end;
  const start = startsLine(text, node.source.start)
    ? lineStart(text, node.source.start)
    : node.source.start;
  const end = endsLine(text, endOffset) ? lineEnd(text, endOffset) : endOffset;
  return { start, end };
}

/** Indentation one level inside `node`'s block, from its children or the file's habit. */
export function innerIndent(text: string, node: ConfigNode): string {
  const child = node.block?.children.find((c) => startsLine(text, c.source.start));
  if (child !== undefined) return indentAt(text, child.source.start);
  return indentAt(text, node.source.start) + indentUnit(text);
}

/** The file's indentation step: the commonest indent of the top-level blocks' statements. */
export function indentUnit(text: string, tree: readonly ConfigNode[] = []): string {
  const counts = new Map<string, number>();
  for (const node of tree) {
    for (const child of node.block?.children ?? []) {
      if (child.source.file !== node.source.file || !startsLine(text, child.source.start)) continue;
      const indent = indentAt(text, child.source.start).slice(
        indentAt(text, node.source.start).length,
      );
      if (indent !== "") counts.set(indent, (counts.get(indent) ?? 0) + 1);
    }
  }
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  if (best !== undefined) return best[0];
  const indents = text
    .split("\n")
    .filter((l) => /^[ \t]+\S/.test(l) && !/^[ \t]*[#!]/.test(l))
    .map((l) => /^[ \t]*/.exec(l)?.[0] ?? "");
  if (indents.some((i) => i.startsWith("\t"))) return "\t";
  const widths = indents.map((i) => i.length).filter((w) => w > 0);
  const min = widths.length === 0 ? 4 : Math.min(...widths);
  return " ".repeat(Math.max(1, Math.min(min, 8)));
}

/**
 * Where a removal of `range` starts: one blank line before it goes too when a blank line or
 * the end of the enclosing block follows, so removing never leaves two blank lines or a
 * blank line before a closing brace (and undoes the blank line an addition put in).
 */
export function withBlankBefore(text: string, range: { start: number; end: number }): number {
  const blankBefore = /(^|\n)[ \t]*\n$/.test(text.slice(0, range.start)) && range.start > 0;
  const after = text.slice(range.end);
  const closes = /^[ \t]*(\n|$)/.test(after) || /^[ \t]*}/.test(after);
  return blankBefore && closes ? lineStart(text, range.start - 1) : range.start;
}
