/**
 * keepalived's config reader (lib/parser.c read_line in 2.2.7), rebuilt with positions:
 * comments (`#` or `!` anywhere outside quotes, `\#` escapes), quoted words, `{` and `}`
 * as tokens of their own wherever they stand, `$NAME=value` definitions and `$NAME` /
 * `${NAME}` substitution, and `include` with globs spliced in where it stands. The files
 * come from the caller; nothing here reads a disk.
 */
import { dirname, expandBraces, globMatch, hasWildcard, resolvePath } from "./glob";
import { type Finding, findingAt } from "./source";

export interface Token {
  kind: "word" | "open" | "close";
  value: string;
  file: string;
  line: number;
  column: number;
  start: number;
  end: number;
  /** The value came from a `$NAME` definition, so the file does not hold it as written. */
  substituted: boolean;
  /** The token opens a new statement: the first on its line or the first after a brace. */
  first: boolean;
}

export interface IncludeRef {
  file: string;
  line: number;
  start: number;
  end: number;
  pattern: string;
  /** Absolute paths the pattern matched among the provided files, in the order read. */
  matched: string[];
}

/** The config's files: a map of absolute path to text, or a resolver with a listing. */
export type ConfigFiles =
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | { read(path: string): string | null; list(): readonly string[] };

export interface LexResult {
  tokens: Token[];
  /** The text of every file read, by path, for the editor. */
  files: Record<string, string>;
  includes: IncludeRef[];
  findings: Finding[];
}

const MAX_INCLUDE_DEPTH = 32;
const DEFINITION = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=$|[,)])/g;

interface Reader {
  read(path: string): string | null;
  list(): readonly string[];
}

function readerOf(files: ConfigFiles): Reader {
  if (files instanceof Map) {
    const map = files as ReadonlyMap<string, string>;
    return { read: (p) => map.get(p) ?? null, list: () => [...map.keys()] };
  }
  if ("read" in files && typeof files.read === "function" && "list" in files) {
    return files as Reader;
  }
  const record = files as Readonly<Record<string, string>>;
  return {
    read: (p) => (Object.hasOwn(record, p) ? (record[p] ?? null) : null),
    list: () => Object.keys(record),
  };
}

class Lexer {
  readonly tokens: Token[] = [];
  readonly files: Record<string, string> = {};
  readonly includes: IncludeRef[] = [];
  readonly findings: Finding[] = [];
  private readonly definitions = new Map<string, string>();
  private readonly stack: string[] = [];

  constructor(private readonly reader: Reader) {}

  lexFile(path: string, text: string): void {
    this.files[path] = text;
    this.stack.push(path);
    let offset = 0;
    let inMultilineDefinition = false;
    const lines = text.split("\n");
    lines.forEach((raw, index) => {
      const lineStart = offset;
      offset += raw.length + 1;
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      const at = { file: path, line: index + 1, start: lineStart };
      if (inMultilineDefinition) {
        inMultilineDefinition = line.trimEnd().endsWith("\\");
        return;
      }
      const pieces = splitLine(line, lineStart);
      if (pieces.unterminatedQuote) {
        this.findings.push(findingAt("error", at, "a quote is not closed on this line"));
      }
      const code = pieces.words;
      if (code.length === 0) return;
      const head = code[0]?.text ?? "";
      if (head.startsWith("@")) {
        this.findings.push(
          findingAt(
            "error",
            at,
            `conditional line ${head} is not supported: whether keepalived reads it depends on its config id`,
          ),
        );
        return;
      }
      if (head.startsWith("~")) {
        this.findings.push(findingAt("error", at, `${head} sequences are not supported`));
        return;
      }
      const definition = DEFINITION.exec(pieces.code);
      if (definition !== null && head.startsWith("$")) {
        const value = definition[2] ?? "";
        if (value.endsWith("\\")) {
          inMultilineDefinition = true;
          this.findings.push(
            findingAt("error", at, `multi-line definition $${definition[1]} is not supported`),
          );
          return;
        }
        this.definitions.set(definition[1] ?? "", value);
        return;
      }
      // keepalived recognises include on the whole line, before braces split it.
      const include = /^include[rmwba]?\s+(.*)$/.exec(pieces.code);
      if (include !== null) {
        const first = code[0];
        const last = code[code.length - 1];
        const pattern = this.expand(include[1] ?? "", at);
        this.include(pattern, at, first?.start ?? lineStart, last?.end ?? lineStart);
        return;
      }
      const tokens = this.substitute(code, path, index + 1, at);
      let afterBrace = true;
      for (const token of tokens) {
        token.first = afterBrace;
        afterBrace = token.kind !== "word";
        this.tokens.push(token);
      }
    });
    this.stack.pop();
  }

  private substitute(
    pieces: Piece[],
    file: string,
    line: number,
    at: { file: string; line: number; start: number },
  ): Token[] {
    const tokens: Token[] = [];
    for (const piece of pieces) {
      const base = {
        file,
        line,
        column: piece.start - at.start + 1,
        start: piece.start,
        end: piece.end,
        first: false,
      };
      if (piece.brace !== null) {
        tokens.push({ ...base, kind: piece.brace, value: piece.text, substituted: false });
        continue;
      }
      if (!piece.text.includes("$")) {
        tokens.push({ ...base, kind: "word", value: piece.text, substituted: false });
        continue;
      }
      const expanded = this.expand(piece.text, at);
      if (piece.quoted || expanded === piece.text) {
        tokens.push({
          ...base,
          kind: "word",
          value: expanded,
          substituted: expanded !== piece.text,
        });
        continue;
      }
      for (const part of splitLine(expanded, 0).words) {
        const kind = part.brace ?? "word";
        tokens.push({ ...base, kind, value: part.text, substituted: true });
      }
    }
    return tokens;
  }

  private expand(text: string, at: { file: string; line: number; start: number }): string {
    let current = text;
    for (let round = 0; round < 10; round += 1) {
      let changed = false;
      current = current.replace(REFERENCE, (whole, braced?: string, plain?: string) => {
        const value = this.definitions.get(braced ?? plain ?? "");
        if (value === undefined) return whole;
        changed = true;
        return value;
      });
      if (!changed) break;
    }
    for (const match of current.matchAll(REFERENCE)) {
      this.findings.push(
        findingAt(
          "warning",
          at,
          `${match[0]} is not defined above: keepalived leaves it as written`,
        ),
      );
    }
    return current;
  }

  private include(
    pattern: string,
    at: { file: string; line: number; start: number },
    start: number,
    end: number,
  ): void {
    const ref: IncludeRef = {
      file: at.file,
      line: at.line,
      start,
      end,
      pattern,
      matched: [],
    };
    this.includes.push(ref);
    if (pattern === "") {
      this.findings.push(findingAt("error", at, "include without a file name"));
      return;
    }
    const base = dirname(at.file);
    const listing = this.reader.list().map((p) => resolvePath("/", p));
    for (const alternative of expandBraces(pattern)) {
      const absolute = resolvePath(base, alternative);
      const matches = hasWildcard(alternative)
        ? globMatch(absolute, listing)
        : this.reader.read(absolute) === null
          ? []
          : [absolute];
      if (matches.length === 0 && !hasWildcard(alternative)) {
        this.findings.push(
          findingAt("warning", at, `included file ${absolute} does not exist: keepalived skips it`),
        );
      }
      for (const path of matches) {
        if (this.stack.includes(path)) {
          this.findings.push(findingAt("error", at, `${path} includes itself (include loop)`));
          continue;
        }
        if (this.stack.length >= MAX_INCLUDE_DEPTH) {
          this.findings.push(
            findingAt("error", at, `includes nest deeper than ${MAX_INCLUDE_DEPTH}`),
          );
          continue;
        }
        const text = this.reader.read(path);
        if (text === null) continue;
        ref.matched.push(path);
        this.lexFile(path, text);
      }
    }
  }
}

interface Piece {
  text: string;
  start: number;
  end: number;
  quoted: boolean;
  brace: "open" | "close" | null;
}

/**
 * One physical line into words and braces, comment removed. Offsets are `base` plus the
 * index in the line. `code` is the line without its comment, trimmed, for definitions.
 */
export function splitLine(
  line: string,
  base: number,
): { words: Piece[]; code: string; unterminatedQuote: boolean } {
  const words: Piece[] = [];
  let i = 0;
  let codeEnd = line.length;
  let unterminatedQuote = false;
  while (i < line.length) {
    const c = line[i] ?? "";
    if (c === " " || c === "\t" || c === "\f" || c === "\v") {
      i += 1;
      continue;
    }
    if (c === "#" || c === "!") {
      codeEnd = i;
      break;
    }
    if (c === "{" || c === "}") {
      words.push({
        text: c,
        start: base + i,
        end: base + i + 1,
        quoted: false,
        brace: c === "{" ? "open" : "close",
      });
      i += 1;
      continue;
    }
    if (c === '"') {
      const close = line.indexOf('"', i + 1);
      if (close < 0) {
        unterminatedQuote = true;
        codeEnd = i;
        break;
      }
      words.push({
        text: line.slice(i + 1, close),
        start: base + i,
        end: base + close + 1,
        quoted: true,
        brace: null,
      });
      i = close + 1;
      continue;
    }
    const start = i;
    let text = "";
    while (i < line.length) {
      const d = line[i] ?? "";
      if (/[\s"{}#!]/.test(d)) break;
      if (d === "$" && line[i + 1] === "{") {
        // `${NAME}` is substituted before braces split a line, so it stays one word.
        const close = line.indexOf("}", i + 2);
        if (close > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(line.slice(i + 2, close))) {
          text += line.slice(i, close + 1);
          i = close + 1;
          continue;
        }
      }
      if (d === "\\" && (line[i + 1] === "#" || line[i + 1] === "!")) {
        text += line[i + 1];
        i += 2;
        continue;
      }
      text += d;
      i += 1;
    }
    words.push({ text, start: base + start, end: base + i, quoted: false, brace: null });
  }
  return { words, code: line.slice(0, codeEnd).trim(), unterminatedQuote };
}

/** Reads `main` and everything it includes, in keepalived's order. Never throws on bad input. */
export function lex(main: string, files: ConfigFiles): LexResult {
  const reader = readerOf(files);
  const lexer = new Lexer(reader);
  const text = reader.read(main);
  if (text === null) {
    lexer.findings.push({
      severity: "error",
      file: main,
      line: 1,
      offset: 0,
      message: `the config file ${main} was not provided`,
    });
  } else {
    lexer.lexFile(main, text);
  }
  return {
    tokens: lexer.tokens,
    files: lexer.files,
    includes: lexer.includes,
    findings: lexer.findings,
  };
}
