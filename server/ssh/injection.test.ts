/**
 * Injection regression suite: hostile values through every builder field (validation must
 * refuse them before an argv exists), and raw through shellQuote/commandLine, whose output
 * is run under the local /bin/sh to prove no payload ever runs.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConsoleError } from "@/server/errors";
import { commandLine, shellQuote } from "@/server/ssh/quote";
import { runUnder, wordsAfterShell } from "@/test/support/shell-harness";
import {
  addRealserver,
  addService,
  deleteRealserver,
  deleteService,
  editRealserver,
  editService,
  restoreLines,
  rulesetToArgv,
  setSysctl,
  setWeight,
  type EndpointInput,
  type RealserverRuleInput,
  type RuleSetInput,
  type ServiceKeyInput,
  type ServiceRuleInput,
  type SysctlSettingInput,
} from "@/server/ipvs/commands";

const dir = mkdtempSync(path.join(tmpdir(), "lvs-injection-"));
const MARKER = path.join(dir, "MARKER");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAYLOADS: readonly string[] = [
  `$(touch ${MARKER})`,
  "$(touch MARKER)",
  `\`touch ${MARKER}\``,
  `;touch ${MARKER}`,
  `&& touch ${MARKER}`,
  `| touch ${MARKER}`,
  `\ntouch ${MARKER}\n`,
  `\r\ntouch ${MARKER}`,
  `'; touch ${MARKER}; '`,
  `"; touch ${MARKER}; "`,
  `'$(touch ${MARKER})'`,
  `"$(touch ${MARKER})"`,
  `> ${MARKER}`,
  "'",
  '"',
  "'\\''",
  "\\",
  "$IFS$(id)",
  "a\0b",
  "\0",
  `\u202Etouch ${MARKER}`, // right-to-left override
  "\u05D0\u05D1\u202E10.10.0.11",
  "🚀💥👩‍💻",
  "１０.１０.０.１１", // full-width digits
  "x".repeat(10 * 1024),
  "1".repeat(10 * 1024),
  "--",
  "-w",
  "--help",
  "-",
  "-1",
];

const WEB: ServiceKeyInput = { kind: "tcp", address: "203.0.113.10", port: 80 };
const FWM6: ServiceKeyInput = { kind: "fwm", mark: 7, family: "inet6" };
const fullRule: ServiceRuleInput = {
  key: WEB,
  scheduler: "sh",
  persistence: { timeout: 300, netmask: "255.255.255.0" },
  ops: false,
  schedFlags: ["sh-port"],
  pe: "sip",
};
const fwmRule: ServiceRuleInput = {
  key: FWM6,
  scheduler: "mh",
  persistence: { timeout: 60, netmask: 64 },
  ops: true,
  schedFlags: ["mh-fallback"],
  pe: null,
};
const masq: RealserverRuleInput = {
  address: "10.10.0.11",
  port: 8080,
  forward: "masq",
  weight: 3,
  upperThreshold: 100,
  lowerThreshold: 50,
  tunnel: null,
};
const gue: RealserverRuleInput = {
  address: "10.10.0.15",
  port: 80,
  forward: "tunnel",
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: { type: "gue", port: 6080, noChecksum: true },
};
const ruleset: RuleSetInput = { services: [{ ...fullRule, realservers: [masq] }] };

interface BuilderCase {
  name: string;
  /** The arguments, each named the way ConsoleError fields name it. */
  args: Array<{ name: string; value: unknown }>;
  call: (args: unknown[]) => string[] | string[][];
  /** Field paths the builder deliberately ignores (they cannot reach the argv). */
  ignored?: string[];
}

// The casts only tell TypeScript what the builder expects: the values are hostile on purpose.
const CASES: BuilderCase[] = [
  {
    name: "addService",
    args: [{ name: "service", value: fullRule }],
    call: (a) => addService(a[0] as ServiceRuleInput),
  },
  {
    name: "addService (fwmark)",
    args: [{ name: "service", value: fwmRule }],
    call: (a) => addService(a[0] as ServiceRuleInput),
  },
  {
    name: "editService",
    args: [{ name: "service", value: fullRule }],
    call: (a) => editService(a[0] as ServiceRuleInput),
  },
  {
    name: "deleteService",
    args: [{ name: "service", value: WEB }],
    call: (a) => deleteService(a[0] as ServiceKeyInput),
  },
  {
    name: "deleteService (fwmark)",
    args: [{ name: "service", value: FWM6 }],
    call: (a) => deleteService(a[0] as ServiceKeyInput),
  },
  {
    name: "addRealserver",
    args: [
      { name: "service", value: WEB },
      { name: "realserver", value: masq },
    ],
    call: (a) => addRealserver(a[0] as ServiceKeyInput, a[1] as RealserverRuleInput),
  },
  {
    name: "editRealserver (tunnel)",
    args: [
      { name: "service", value: WEB },
      { name: "realserver", value: gue },
    ],
    call: (a) => editRealserver(a[0] as ServiceKeyInput, a[1] as RealserverRuleInput),
  },
  {
    name: "deleteRealserver",
    args: [
      { name: "service", value: FWM6 },
      { name: "realserver", value: { address: "2001:db8:200::11", port: 80 } },
    ],
    call: (a) => deleteRealserver(a[0] as ServiceKeyInput, a[1] as EndpointInput),
  },
  {
    name: "setWeight",
    args: [
      { name: "service", value: WEB },
      { name: "realserver", value: masq },
      { name: "weight", value: 0 },
    ],
    call: (a) => setWeight(a[0] as ServiceKeyInput, a[1] as RealserverRuleInput, a[2] as number),
    // setWeight replaces the current weight with the new one.
    ignored: ["realserver.weight"],
  },
  {
    name: "setSysctl",
    args: [{ name: "setting", value: { name: "expire_quiescent_template", value: 1 } }],
    call: (a) => setSysctl(a[0] as SysctlSettingInput),
  },
  {
    name: "restoreLines",
    args: [{ name: "", value: ruleset }],
    call: (a) => restoreLines(a[0] as RuleSetInput),
  },
  {
    name: "rulesetToArgv",
    args: [{ name: "", value: ruleset }],
    call: (a) => rulesetToArgv(a[0] as RuleSetInput),
  },
];

function isArgvList(out: string[] | string[][]): out is string[][] {
  return out.every((x) => Array.isArray(x));
}

/** Every path into a value: leaves and the objects and arrays holding them. */
function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  if (Array.isArray(value)) {
    return [prefix, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  }
  if (typeof value === "object" && value !== null) {
    return [prefix, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  }
  return [prefix];
}

function getAt(value: unknown, p: ReadonlyArray<string | number>): unknown {
  return p.reduce<unknown>(
    (v, k) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

function withAt(value: unknown, p: ReadonlyArray<string | number>, replacement: unknown): unknown {
  if (p.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  const parent = getAt(copy, p.slice(0, -1)) as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (last !== undefined) parent[last] = replacement;
  return copy;
}

function fieldName(argName: string, p: ReadonlyArray<string | number>): string {
  return [argName, ...p.map(String)].filter((s) => s !== "").join(".");
}

/** A hostile value alone, and glued to the field's valid value (e.g. "10.10.0.11;touch ..."). */
function variants(original: unknown): unknown[] {
  const glued =
    typeof original === "string" || typeof original === "number"
      ? PAYLOADS.map((p) => `${String(original)}${p}`)
      : [];
  return [...PAYLOADS, ...glued];
}

describe("hostile values through every builder field are refused before any argv exists", () => {
  it("the harness sees an injection when one happens (control)", () => {
    const control = path.join(dir, "CONTROL");
    runUnder([":"], `$(touch ${control})`, dir);
    expect(existsSync(control)).toBe(true);
    rmSync(control);
  });

  for (const c of CASES) {
    it(`${c.name}`, () => {
      const base = c.args.map((a) => a.value);
      // Sanity: the untouched input is valid, so every refusal below is the payload's doing.
      expect(c.call(base).length).toBeGreaterThan(0);
      let attempts = 0;
      c.args.forEach((arg, argIndex) => {
        for (const p of pathsOf(arg.value)) {
          const name = fieldName(arg.name, p);
          if (c.ignored?.includes(name)) continue;
          for (const hostile of variants(getAt(arg.value, p))) {
            const args = [...base];
            args[argIndex] = withAt(arg.value, p, hostile);
            let thrown: unknown = null;
            try {
              c.call(args);
            } catch (e) {
              thrown = e;
            }
            attempts += 1;
            if (!(thrown instanceof ConsoleError)) {
              throw new Error(
                `${c.name}: ${name} = ${JSON.stringify(hostile).slice(0, 80)} was not refused`,
              );
            }
            expect(thrown.code).toBe("VALIDATION");
            const fields = Object.keys(thrown.details.fields as Record<string, string>);
            // The error names the field, or the object holding it (a wrong `kind` names the key).
            const named = fields.find(
              (f) => name === f || name.startsWith(`${f}.`) || (f === "" && name === ""),
            );
            if (named === undefined) {
              throw new Error(`${c.name}: ${name} was refused naming ${fields.join(", ")} instead`);
            }
            expect(thrown.message.startsWith(`${fields[0]}: `)).toBe(true);
          }
        }
      });
      expect(attempts).toBeGreaterThan(PAYLOADS.length);
      expect(existsSync(MARKER)).toBe(false);
    });
  }
});

describe("hostile values raw through shellQuote and commandLine never run", () => {
  const passable = PAYLOADS.filter((p) => !p.includes("\0"));

  it("a NUL byte is refused by both, as a VALIDATION error", () => {
    for (const p of PAYLOADS.filter((x) => x.includes("\0"))) {
      expect(() => shellQuote(["ipvsadm", p])).toThrow(ConsoleError);
      expect(() => commandLine(["ipvsadm", p])).toThrow(ConsoleError);
      try {
        commandLine(["ipvsadm", "-a", p]);
      } catch (e) {
        expect(e).toMatchObject({ code: "VALIDATION" });
      }
    }
  });

  it.each(passable.map((p) => [JSON.stringify(p).slice(0, 60), p] as const))(
    "%s",
    (_label, payload) => {
      const lines: Array<{ line: string; words: string[] }> = [
        { line: shellQuote([payload]), words: [payload] },
        { line: shellQuote([payload, payload, "x"]), words: [payload, payload, "x"] },
        {
          line: shellQuote(["ipvsadm", "-a", "-t", payload, "-r", `${payload}:80`]),
          words: ["ipvsadm", "-a", "-t", payload, "-r", `${payload}:80`],
        },
        {
          line: commandLine(["ipvsadm", "-e", payload], { sudo: true }),
          words: ["env", "LC_ALL=C", "sudo", "-n", "--", "ipvsadm", "-e", payload],
        },
        {
          line: commandLine(["ipvsadm", payload], { env: { PAYLOAD: payload } }),
          words: ["env", `PAYLOAD=${payload}`, "LC_ALL=C", "ipvsadm", payload],
        },
      ];
      for (const { line, words } of lines) {
        runUnder([":", "echo"], line, dir);
        expect(wordsAfterShell(line, dir)).toEqual(words);
        expect(existsSync(MARKER)).toBe(false);
      }
    },
  );

  it("every builder's real output survives the shell unchanged", () => {
    // restoreLines is left out: its lines go to `ipvsadm -R` on stdin, never to a shell.
    for (const c of CASES.filter((x) => x.name !== "restoreLines")) {
      const out = c.call(c.args.map((a) => a.value));
      const argvs = isArgvList(out) ? out : [out];
      for (const argv of argvs) {
        const line = commandLine(argv, { sudo: true });
        expect(wordsAfterShell(line, dir)).toEqual([
          "env",
          "LC_ALL=C",
          "sudo",
          "-n",
          "--",
          ...argv,
        ]);
      }
    }
  });
});
