import { describe, expect, it } from "vitest";
import { Turns } from "./turns";

/** A run that ends when the test says so, logging when it starts and ends. */
function runs() {
  const log: string[] = [];
  const ends = new Map<string, (value: string) => void>();
  const fails = new Map<string, (e: Error) => void>();
  const run = (name: string) => () => {
    log.push(`start ${name}`);
    return new Promise<string>((resolve, reject) => {
      ends.set(name, (v) => {
        log.push(`end ${name}`);
        resolve(v);
      });
      fails.set(name, (e) => {
        log.push(`fail ${name}`);
        reject(e);
      });
    });
  };
  const end = async (name: string, value = name) => {
    const f = ends.get(name);
    if (!f) throw new Error(`${name} has not started`);
    f(value);
    await new Promise((r) => setTimeout(r, 0));
  };
  const fail = async (name: string) => {
    fails.get(name)?.(new Error(name));
    await new Promise((r) => setTimeout(r, 0));
  };
  return { log, run, end, fail };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("Turns (owner reads)", () => {
  it("runs one at a time per key, in order, and keys apart at once", async () => {
    const r = runs();
    const turns = new Turns<string>();
    const a = turns.run("lvs1", r.run("a"));
    const other = turns.run("lvs2", r.run("other"));
    await settle();
    expect(r.log).toEqual(["start a", "start other"]);
    const b = turns.run("lvs1", r.run("b"));
    await settle();
    expect(r.log).toEqual(["start a", "start other"]);
    await r.end("a");
    expect(r.log).toEqual(["start a", "start other", "end a", "start b"]);
    await r.end("b");
    await r.end("other");
    expect(await Promise.all([a, b, other])).toEqual(["a", "b", "other"]);
  });

  it("lets a caller join the run queued next rather than queue another", async () => {
    const r = runs();
    const turns = new Turns<string>();
    const first = turns.run("lvs1", r.run("first"));
    await settle();
    const second = turns.run("lvs1", r.run("second"));
    const third = turns.run("lvs1", r.run("third"));
    expect(third).toBe(second);
    await r.end("first");
    // Started: a caller now queues behind it, it does not join a run already going.
    const fourth = turns.run("lvs1", r.run("fourth"));
    expect(fourth).not.toBe(second);
    await r.end("second");
    await r.end("fourth");
    expect(await Promise.all([first, second, third, fourth])).toEqual([
      "first",
      "second",
      "second",
      "fourth",
    ]);
    expect(r.log).not.toContain("start third");
  });

  it("is busy while a run goes or waits, idle after the last, and a failure passes the turn on", async () => {
    const r = runs();
    const turns = new Turns<string>();
    expect(turns.busy("lvs1")).toBe(false);
    const a = turns.run("lvs1", r.run("a"));
    const b = turns.run("lvs1", r.run("b"));
    expect(turns.busy("lvs1")).toBe(true);
    await settle();
    await r.fail("a");
    await expect(a).rejects.toThrow("a");
    expect(r.log).toEqual(["start a", "fail a", "start b"]);
    expect(turns.busy("lvs1")).toBe(true);
    await r.end("b");
    expect(await b).toBe("b");
    await settle();
    expect(turns.busy("lvs1")).toBe(false);
  });
});
