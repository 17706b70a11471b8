import { describe, expect, it } from "vitest";
import { expandBraces, globMatch, resolvePath } from "./glob";
import { lex } from "./lexer";
import { parseTree, walk } from "./tree";

const MAIN = "/etc/keepalived/keepalived.conf";

function values(text: string): string[][] {
  return parseTree(MAIN, { [MAIN]: text }).nodes.map((n) => [n.keyword, ...n.args]);
}

describe("keepalived tokens", () => {
  it("drops # and ! comments anywhere outside quotes, keeps \\# escapes and quoted text", () => {
    const text = [
      "! header",
      "  # indented comment",
      "router_id lb1 # trailing",
      "notification_email_from a!b",
      'misc_path "/bin/check --flag #1"',
      "weird \\#hash",
    ].join("\n");
    expect(values(text)).toEqual([
      ["router_id", "lb1"],
      ["notification_email_from", "a"],
      ["misc_path", "/bin/check --flag #1"],
      ["weird", "#hash"],
    ]);
  });

  it("treats braces as tokens wherever they stand, and { on its own line opens the block above", () => {
    const tree = parseTree(MAIN, {
      [MAIN]: "a 1 {b 2}\nc\n{\n  d { e }\n}\n",
    });
    const [a, c] = tree.nodes;
    expect(a?.block?.children.map((n) => [n.keyword, ...n.args])).toEqual([["b", "2"]]);
    expect(c?.block?.children[0]?.block?.children.map((n) => n.keyword)).toEqual(["e"]);
    expect(tree.findings).toEqual([]);
  });

  it("gives every token its line, column and offsets into its file", () => {
    const text = "vs 1.2.3.4 80 {\n\treal_server 10.0.0.1 80 { weight 3 }\n}\n";
    const { tokens } = lex(MAIN, { [MAIN]: text });
    for (const t of tokens) expect(text.slice(t.start, t.end)).toBe(t.value);
    const weight = tokens.find((t) => t.value === "3");
    expect(weight).toMatchObject({ line: 2, column: 35, file: MAIN });
    const tree = parseTree(MAIN, { [MAIN]: text });
    expect(text.slice(tree.nodes[0]?.source.start, tree.nodes[0]?.source.end)).toBe(text.trimEnd());
  });

  it("substitutes $NAME and ${NAME} definitions and marks the tokens", () => {
    const text = "$IP=10.0.0.1\n$PAIR = 10.0.0.2 8080\nrs $IP ${IP}:1 $PAIR\n";
    const { tokens, findings } = lex(MAIN, { [MAIN]: text });
    expect(tokens.map((t) => [t.value, t.substituted])).toEqual([
      ["rs", false],
      ["10.0.0.1", true],
      ["10.0.0.1:1", true],
      ["10.0.0.2", true],
      ["8080", true],
    ]);
    expect(findings).toEqual([]);
  });

  it("reports what it does not model: @conditional lines, ~SEQ, multi-line definitions, undefined $NAME", () => {
    const text = "@lb1 router_id a\n~SEQ(i,1,3) x\n$LONG=a \\\n  b\nrouter_id $NOPE\n";
    const { tokens, findings } = lex(MAIN, { [MAIN]: text });
    expect(tokens.map((t) => t.value)).toEqual(["router_id", "$NOPE"]);
    expect(findings.map((f) => [f.severity, f.line])).toEqual([
      ["error", 1],
      ["error", 2],
      ["error", 3],
      ["warning", 5],
    ]);
  });

  it("reports unbalanced braces without throwing", () => {
    const open = parseTree(MAIN, { [MAIN]: "a {\n b {\n}\n" });
    expect(open.findings.map((f) => [f.line, f.message])).toEqual([
      [1, "the block of a is not closed: a '}' is missing"],
    ]);
    const extra = parseTree(MAIN, { [MAIN]: "a {\n}\n}\n{\n}\n" });
    expect(extra.findings.map((f) => f.line)).toEqual([3, 4]);
  });
});

describe("include", () => {
  const files = {
    [MAIN]: "include conf.d/*.conf\ninclude /etc/keepalived/other/{x,y}.conf\nlast 1\n",
    "/etc/keepalived/conf.d/20-b.conf": "b 2\n",
    "/etc/keepalived/conf.d/10-a.conf": "a 1\ninclude ../other/x.conf\n",
    "/etc/keepalived/conf.d/.hidden.conf": "hidden 1\n",
    "/etc/keepalived/conf.d/notes.txt": "notes 1\n",
    "/etc/keepalived/other/x.conf": "x 1\n",
    "/etc/keepalived/other/y.conf": "y 1\n",
  };

  it("splices matched files in glob order where the include stands, relative to the including file", () => {
    const tree = parseTree(MAIN, files);
    expect(
      [...walk(tree.nodes)].map((n) => `${n.keyword}@${n.source.file}:${n.source.line}`),
    ).toEqual([
      "a@/etc/keepalived/conf.d/10-a.conf:1",
      "x@/etc/keepalived/other/x.conf:1",
      "b@/etc/keepalived/conf.d/20-b.conf:1",
      "x@/etc/keepalived/other/x.conf:1",
      "y@/etc/keepalived/other/y.conf:1",
      `last@${MAIN}:3`,
    ]);
    expect(tree.includes.map((i) => [i.pattern, i.matched.length])).toEqual([
      ["conf.d/*.conf", 2],
      ["../other/x.conf", 1],
      ["/etc/keepalived/other/{x,y}.conf", 2],
    ]);
    expect(Object.keys(tree.files)).toHaveLength(5);
  });

  it("accepts a Map or a resolver with a listing", () => {
    const map = new Map(Object.entries(files));
    const resolver = { read: (p: string) => map.get(p) ?? null, list: () => [...map.keys()] };
    const viaMap = parseTree(MAIN, map).nodes.map((n) => n.keyword);
    expect(parseTree(MAIN, resolver).nodes.map((n) => n.keyword)).toEqual(viaMap);
    expect(viaMap).toHaveLength(6);
  });

  it("reports a missing file and an include loop, and skips them as keepalived does", () => {
    const tree = parseTree(MAIN, {
      [MAIN]: "include missing.conf\ninclude loop.conf\ninclude none/*.conf\nz 1\n",
      "/etc/keepalived/loop.conf": "include keepalived.conf\nl 1\n",
    });
    expect(tree.nodes.map((n) => n.keyword)).toEqual(["l", "z"]);
    expect(tree.findings.map((f) => [f.severity, f.file, f.line, f.message])).toEqual([
      [
        "warning",
        MAIN,
        1,
        "included file /etc/keepalived/missing.conf does not exist: keepalived skips it",
      ],
      [
        "error",
        "/etc/keepalived/loop.conf",
        1,
        "/etc/keepalived/keepalived.conf includes itself (include loop)",
      ],
    ]);
  });

  it("reports a main file that was not provided", () => {
    expect(parseTree(MAIN, {}).findings.map((f) => f.message)).toEqual([
      `the config file ${MAIN} was not provided`,
    ]);
  });
});

describe("glob", () => {
  it.each([
    ["/a/*.conf", ["/a/1.conf", "/a/.x.conf", "/a/b/2.conf", "/a/3.txt"], ["/a/1.conf"]],
    ["/a/[0-9]?.conf", ["/a/10.conf", "/a/x1.conf", "/a/1.conf"], ["/a/10.conf"]],
    ["/a/[!0-9]*", ["/a/10.conf", "/a/x1.conf"], ["/a/x1.conf"]],
    ["/a/*/*.conf", ["/a/b/2.conf", "/a/1.conf"], ["/a/b/2.conf"]],
  ])("%s", (pattern, paths, expected) => {
    expect(globMatch(pattern, paths)).toEqual(expected);
  });

  it("expands braces in order and resolves relative paths", () => {
    expect(expandBraces("a{b,c{d,e}}f")).toEqual(["abf", "acdf", "acef"]);
    expect(resolvePath("/etc/keepalived/conf.d", "../x/./y.conf")).toBe("/etc/keepalived/x/y.conf");
    expect(resolvePath("/etc", "/abs//z")).toBe("/abs/z");
  });
});

describe("include inside a block", () => {
  it("puts the included statements into the block, each positioned in its own file", () => {
    const tree = parseTree(MAIN, {
      [MAIN]: "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  include rs/*.conf\n}\n",
      "/etc/keepalived/rs/a.conf": "real_server 10.0.1.1 80 {\n  weight 2\n}\n",
    });
    expect(tree.findings).toEqual([]);
    expect(
      tree.nodes[0]?.block?.children.map((c) => [c.keyword, c.source.file, c.source.line]),
    ).toEqual([
      ["protocol", MAIN, 2],
      ["real_server", "/etc/keepalived/rs/a.conf", 1],
    ]);
  });
});
