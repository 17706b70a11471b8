/**
 * Property-style: configs generated in many operator styles (indent, brace placement,
 * comments, blank lines) parse without findings into the services they were built from, and
 * each edit changes exactly the lines it should.
 */
import { describe, expect, it } from "vitest";
import { parseKeepalivedConfig } from "./config";
import { addRealserver, removeRealserver, setRealserverWeight } from "./edit-realserver";
import { programmedServices } from "./program";
import { MAIN } from "./test-support";

interface Model {
  address: string;
  port: number;
  scheduler: "rr" | "wlc" | "wrr";
  members: Array<{ address: string; weight: number }>;
}

function generator(seed: number) {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  return next;
}

function generate(seed: number): { text: string; model: Model[] } {
  const next = generator(seed);
  const unit = ["\t", "  ", "    ", "   "][next(4)] ?? "\t";
  const ownLine = next(2) === 0;
  const comment = () => ["", "", ` # note ${next(100)}`, ` ! note ${next(100)}`][next(4)] ?? "";
  const open = (indent: string) => (ownLine ? `\n${indent}{` : " {");
  const model: Model[] = [];
  const lines: string[] = [next(2) === 0 ? "! generated" : "# generated", ""];
  const count = 1 + next(3);
  for (let v = 0; v < count; v += 1) {
    const vs: Model = {
      address: `203.0.113.${10 + v}`,
      port: 80 + next(1000),
      scheduler: (["rr", "wlc", "wrr"] as const)[next(3)] ?? "rr",
      members: [],
    };
    model.push(vs);
    lines.push(`virtual_server ${vs.address} ${vs.port}${open("")}${comment()}`);
    lines.push(
      `${unit}lb_algo ${vs.scheduler}${comment()}`,
      `${unit}lb_kind NAT`,
      `${unit}protocol TCP`,
    );
    const members = 1 + next(4);
    for (let r = 0; r < members; r += 1) {
      const member = { address: `10.0.${v}.${r + 1}`, weight: next(10) };
      vs.members.push(member);
      if (next(2) === 0) lines.push("");
      lines.push(`${unit}real_server ${member.address} ${vs.port}${open(unit)}${comment()}`);
      lines.push(`${unit}${unit}weight ${member.weight}${comment()}`);
      if (next(2) === 0)
        lines.push(
          `${unit}${unit}TCP_CHECK${open(unit + unit)}`,
          `${unit}${unit}${unit}connect_timeout 3`,
          `${unit}${unit}}`,
        );
      lines.push(`${unit}}${comment()}`);
    }
    lines.push(`}${comment()}`, "");
  }
  return { text: lines.join("\n"), model };
}

function programmed(text: string) {
  const config = parseKeepalivedConfig(MAIN, { [MAIN]: text });
  return {
    config,
    services: programmedServices(config).services.map((s) => ({
      address: s.key.kind === "fwm" ? "" : s.key.address,
      port: s.key.kind === "fwm" ? 0 : s.key.port,
      scheduler: s.scheduler,
      members: s.realservers.map((r) => ({ address: r.address, weight: r.weight })),
    })),
  };
}

describe.each(Array.from({ length: 40 }, (_, i) => i + 1))("generated config %i", (seed) => {
  const { text, model } = generate(seed);
  const { config, services } = programmed(text);

  it("parses into the services it was built from, with no finding", () => {
    expect(config.findings).toEqual([]);
    expect(services).toEqual(model);
  });

  it("a weight edit changes one line and only that weight", () => {
    const next = generator(seed * 7);
    const vs = model[next(model.length)] ?? model[0];
    const member = vs?.members[next(vs.members.length)];
    if (vs === undefined || member === undefined) throw new Error("the generator made no member");
    const key = { kind: "tcp" as const, address: vs.address, port: vs.port };
    const result = setRealserverWeight(
      config,
      key,
      { address: member.address, port: vs.port },
      member.weight + 100,
    );
    if (!result.ok) throw result.error;
    const file = result.files[0];
    expect(file?.changes.map((c) => [c.oldLines.length, c.newLines.length])).toEqual([[1, 1]]);
    const expected = model.map((s) => ({
      ...s,
      members: s.members.map((m) =>
        s === vs && m === member ? { ...m, weight: m.weight + 100 } : m,
      ),
    }));
    expect(programmed(file?.after ?? "").services).toEqual(expected);
  });

  it("adding then removing a realserver gives back the text byte for byte", () => {
    const vs = model[0];
    if (vs === undefined) throw new Error("the generator made no service");
    const key = { kind: "tcp" as const, address: vs.address, port: vs.port };
    const added = addRealserver(config, key, { address: "10.9.9.9", port: vs.port, weight: 4 });
    if (!added.ok) throw added.error;
    const after = added.files[0]?.after ?? "";
    const again = programmed(after);
    expect(again.config.findings).toEqual([]);
    expect(again.services[0]?.members).toEqual([...vs.members, { address: "10.9.9.9", weight: 4 }]);
    const removed = removeRealserver(again.config, key, { address: "10.9.9.9", port: vs.port });
    if (!removed.ok) throw removed.error;
    expect(removed.files[0]?.after).toBe(text);
  });
});
