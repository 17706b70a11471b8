import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSaved } from "@/server/ipvs/parse";
import { restoreLines, rulesetToArgv } from "./commands";
import { plan } from "./planner";

const saved = readFileSync(new URL("./__fixtures__/ipvsadm-Sn.txt", import.meta.url), "utf8");
const fixtureLines = saved.split("\n").filter((l) => l.trim() !== "");

/** ipvsadm -S orders services by hash bucket, not by insertion: compare as sorted lists. */
const sorted = (lines: readonly string[]): string[] => [...lines].sort();

describe("ipvsadm -Sn round trip", () => {
  const ruleset = parseSaved(saved);

  it("writes back exactly the fixture's lines", () => {
    const lines = restoreLines(ruleset);
    expect(sorted(lines)).toEqual(sorted(fixtureLines));
    // Each service's -A line comes before its -a lines, so ipvsadm -R can replay them.
    expect(lines).toEqual(fixtureLines);
  });

  it("parses the written lines back to the same rule set", () => {
    expect(parseSaved(restoreLines(ruleset).join("\n") + "\n")).toEqual(ruleset);
  });

  it("rulesetToArgv is the same commands as argv", () => {
    expect(rulesetToArgv(ruleset).map((argv) => argv.slice(1).join(" "))).toEqual(
      restoreLines(ruleset),
    );
    expect(rulesetToArgv(ruleset).every((argv) => argv[0] === "ipvsadm")).toBe(true);
  });

  it("the planner drains rs1:80 on the parsed fixture", () => {
    const p = plan(ruleset, { kind: "drain", realserver: { address: "10.10.0.11", port: 80 } });
    expect(p.ok && p.steps.map((s) => s.argv.slice(2, 4).join(" "))).toEqual([
      "-t 203.0.113.10:80",
      "-t 203.0.113.10:8080",
      "-f 1",
    ]);
  });
});
