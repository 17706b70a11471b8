/**
 * Statements and blocks from the token stream: a statement is the words from a token that
 * starts one up to the next line end or brace; a `{` right after a statement (on the same
 * line or its own) opens that statement's block. Unbalanced braces are findings.
 */
import { type ConfigFiles, type IncludeRef, lex, type Token } from "./lexer";
import { type Finding, findingAt, type SourceRef } from "./source";

export interface ConfigBlock {
  open: Token;
  /** Null when the file ends before the block is closed (a finding says so). */
  close: Token | null;
  children: ConfigNode[];
}

export interface ConfigNode {
  keyword: string;
  args: string[];
  /** tokens[0] is the keyword. */
  tokens: Token[];
  source: SourceRef;
  block: ConfigBlock | null;
}

export interface ConfigTree {
  main: string;
  files: Record<string, string>;
  nodes: ConfigNode[];
  includes: IncludeRef[];
  findings: Finding[];
}

interface Frame {
  children: ConfigNode[];
  node: ConfigNode | null;
}

export function parseTree(main: string, files: ConfigFiles): ConfigTree {
  const lexed = lex(main, files);
  const findings = [...lexed.findings];
  const root: ConfigNode[] = [];
  const stack: Frame[] = [{ children: root, node: null }];
  let last: ConfigNode | null = null;
  let current: Token[] = [];

  const top = (): Frame => stack[stack.length - 1] ?? { children: root, node: null };
  const flush = (): ConfigNode | null => {
    const first = current[0];
    let node: ConfigNode | null = null;
    if (first !== undefined) {
      const lastToken = current[current.length - 1] ?? first;
      node = {
        keyword: first.value,
        args: current.slice(1).map((t) => t.value),
        tokens: current,
        source: {
          file: first.file,
          line: first.line,
          column: first.column,
          start: first.start,
          end: lastToken.file === first.file ? lastToken.end : first.end,
        },
        block: null,
      };
      top().children.push(node);
    }
    current = [];
    return node;
  };

  for (const token of lexed.tokens) {
    if (token.kind === "word") {
      if (token.first) last = flush() ?? last;
      current.push(token);
      continue;
    }
    const owner = flush() ?? last;
    if (token.kind === "open") {
      if (owner !== null && owner.block === null) {
        owner.block = { open: token, close: null, children: [] };
        stack.push({ children: owner.block.children, node: owner });
      } else {
        findings.push(findingAt("error", token, "a '{' that follows no keyword"));
        stack.push({ children: [], node: null });
      }
      last = null;
      continue;
    }
    if (stack.length === 1) {
      findings.push(findingAt("error", token, "an extra '}' closes no block"));
    } else {
      const frame = stack.pop();
      const node = frame?.node;
      if (node?.block) {
        node.block.close = token;
        if (token.file === node.source.file) node.source.end = token.end;
      }
    }
    last = null;
  }
  flush();
  for (const frame of stack.slice(1).reverse()) {
    const node = frame.node;
    if (node !== null) {
      findings.push(
        findingAt(
          "error",
          node.source,
          `the block of ${node.keyword} is not closed: a '}' is missing`,
        ),
      );
    }
  }
  return { main, files: lexed.files, nodes: root, includes: lexed.includes, findings };
}

/** Every node of the tree, depth first, in file order. */
export function* walk(nodes: readonly ConfigNode[]): Generator<ConfigNode> {
  for (const node of nodes) {
    yield node;
    if (node.block) yield* walk(node.block.children);
  }
}
