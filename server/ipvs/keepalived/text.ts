/** Text helpers for minimal edits: lines around an offset, splicing, and a line diff. */

export interface TextEdit {
  file: string;
  start: number;
  end: number;
  text: string;
}

/** One changed stretch of a file, like a unified diff hunk (line numbers 1-based). */
export interface ChangedLines {
  file: string;
  oldStart: number;
  oldLines: string[];
  newStart: number;
  newLines: string[];
}

export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Index just past the line's newline (or the end of the text). */
export function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline < 0 ? text.length : newline + 1;
}

/** The whitespace that starts the line holding `offset`. */
export function indentAt(text: string, offset: number): string {
  const start = lineStart(text, offset);
  return /^[ \t]*/.exec(text.slice(start))?.[0] ?? "";
}

/** True when only spaces or tabs stand between the line start and `offset`. */
export function startsLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, offset), offset));
}

/** True when only blanks or a comment follow `offset` on its line. */
export function endsLine(text: string, offset: number): boolean {
  const rest = text.slice(offset, lineEnd(text, offset)).replace(/\r?\n$/, "");
  return /^[ \t]*([#!].*)?$/.test(rest);
}

/** The text with `edits` (non-overlapping, offsets into `text`) applied. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Changed stretches between two versions of a file (an LCS over the differing middle). */
export function diffLines(file: string, before: string, after: string): ChangedLines[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail += 1;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  if (am.length === 0 && bm.length === 0) return [];
  if (am.length * bm.length > 4_000_000) {
    return [{ file, oldStart: head + 1, oldLines: am, newStart: head + 1, newLines: bm }];
  }
  // lcs[i][j]: longest common subsequence of am[i..] and bm[j..].
  const lcs: number[][] = Array.from({ length: am.length + 1 }, () =>
    new Array<number>(bm.length + 1).fill(0),
  );
  for (let i = am.length - 1; i >= 0; i -= 1) {
    for (let j = bm.length - 1; j >= 0; j -= 1) {
      const row = lcs[i] ?? [];
      row[j] =
        am[i] === bm[j]
          ? (lcs[i + 1]?.[j + 1] ?? 0) + 1
          : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const hunks: ChangedLines[] = [];
  let current: ChangedLines | null = null;
  let i = 0;
  let j = 0;
  const open = (): ChangedLines => {
    current ??= {
      file,
      oldStart: head + i + 1,
      oldLines: [],
      newStart: head + j + 1,
      newLines: [],
    };
    return current;
  };
  while (i < am.length || j < bm.length) {
    if (i < am.length && j < bm.length && am[i] === bm[j]) {
      if (current !== null) hunks.push(current);
      current = null;
      i += 1;
      j += 1;
    } else if (
      j < bm.length &&
      (i >= am.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))
    ) {
      open().newLines.push(bm[j] ?? "");
      j += 1;
    } else {
      open().oldLines.push(am[i] ?? "");
      i += 1;
    }
  }
  if (current !== null) hunks.push(current);
  return hunks;
}
