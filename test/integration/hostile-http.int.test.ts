/**
 * Every mutation of the real router, called over HTTP on a production server as an admin
 * (so authorization is not what stops it) with malformed and hostile inputs: each must get a
 * 4xx answer, and the lab director must run no command meanwhile (lab-commands counts every
 * SSH session's command and every command of the console's remote shell; the only new one
 * is our own count).
 */
import { testPort } from "../support/ports";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { labExec } from "../../lab/harness";
import { appRouter } from "../../server/trpc/root";
import { labCommandCount, signIn, startConsole, type ConsoleServer } from "./auth-server";

const MARKER = "/tmp/lvs-console-hostile-marker";
const PORT = testPort(3200);

const PAYLOADS: unknown[] = [
  `$(touch ${MARKER})`,
  `\`touch ${MARKER}\``,
  `; touch ${MARKER} #`,
  `lab; touch ${MARKER}`,
  "x".repeat(10_240),
  "nul\u0000byte",
  "",
  -1,
  -(2 ** 53),
  2 ** 53 + 2,
  1e308,
  0.5,
  true,
  null,
  [],
  {},
  [`$(touch ${MARKER})`],
  { address: `$(touch ${MARKER})`, port: -1 },
];

/** Raw bodies JSON.stringify cannot make: own __proto__ keys, broken JSON, lying superjson meta. */
function rawBodies(keys: string[]): string[] {
  const pollute = `"__proto__": {"polluted": true, "isAdmin": true}`;
  const fields = keys
    .map((k) => `${JSON.stringify(k)}: ${JSON.stringify(`$(touch ${MARKER})`)}`)
    .join(", ");
  return [
    `{"json": {${pollute}}}`,
    `{"json": {${fields}${fields ? ", " : ""}${pollute}}}`,
    `{"json": {"constructor": {"prototype": {"polluted": true}}}}`,
    `{"json": {${fields}${fields ? ", " : ""}"constructor": {"prototype": {"polluted": true}}}}`,
    `{"json": `,
    `not json at all`,
    `{"json": {"clusterId": "lab"}, "meta": {"values": {"clusterId": ["bigint"]}}}`,
    `{"json": {"clusterId": "lab"}, "meta": {"values": {"__proto__": ["set"]}}}`,
  ];
}

function inputKeys(schema: unknown): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return inputKeys(schema.in);
  return [];
}

function plausible(key: string): unknown {
  return /^(cluster|director)Id$/.test(key) ? "lab" : undefined;
}

/** The inputs tried on one mutation, as request bodies. */
function hostileBodies(keys: string[]): string[] {
  const bodies: unknown[] = [...PAYLOADS, undefined];
  for (const key of keys) {
    for (const p of PAYLOADS) {
      const input: Record<string, unknown> = {};
      for (const k of keys) input[k] = plausible(k);
      input[key] = p;
      bodies.push(input);
    }
  }
  // Every field hostile at once, plus fields nobody asked for.
  const all: Record<string, unknown> = { extra: `$(touch ${MARKER})`, isAdmin: true };
  for (const k of keys) all[k] = `$(touch ${MARKER})`;
  bodies.push(all);
  return [...bodies.map((b) => JSON.stringify({ json: b })), ...rawBodies(keys)];
}

interface MutationCase {
  path: string;
  keys: string[];
}

function mutations(): MutationCase[] {
  const record = appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: string; inputs: unknown[] } }
  >;
  return Object.entries(record)
    .filter(([, p]) => p._def.type === "mutation")
    .map(([path, p]) => ({ path, keys: p._def.inputs.flatMap(inputKeys) }));
}

let server: ConsoleServer;
let adminCookie: string;
let viewerCookie: string;
const labName = (): string => inject("labName");

beforeAll(async () => {
  server = await startConsole({ port: PORT, labName: labName() });
  adminCookie = await signIn(server, "admin");
  // Before the hostile sign-ins, which may trip the per-address limit.
  viewerCookie = await signIn(server, "viewer");
});

afterAll(async () => {
  await server?.stop();
});

/** Waits until nothing but our own count runs on the director (a poller may run at start). */
async function quietCount(): Promise<number> {
  let previous = await labCommandCount(labName());
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = await labCommandCount(labName());
    if (now === previous + 1) return now;
    previous = now;
  }
  throw new Error("the lab director never went quiet: something keeps running SSH commands");
}

describe("hostile input over HTTP", () => {
  const cases = mutations();

  it("covers the mutations of every router", () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.map((c) => c.path)).toContain("auth.login");
  });

  it("answers every malformed or hostile mutation with a 4xx and runs nothing on the director", async () => {
    const before = await quietCount();
    const failures: string[] = [];
    let requests = 0;
    // auth.logout takes no input (any body is ignored) and would end the admin's session.
    for (const { path, keys } of cases.filter((c) => c.path !== "auth.logout")) {
      for (const body of hostileBodies(keys)) {
        requests++;
        const res = await fetch(`${server.url}/api/trpc/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: server.url, cookie: adminCookie },
          body,
        });
        const text = await res.text();
        // Wrong credentials and the sign-in limit are the expected refusals for auth.login.
        const allowed = path === "auth.login" ? [401, 429] : [];
        const ok =
          res.status >= 400 &&
          res.status < 500 &&
          (![401, 403].includes(res.status) || allowed.includes(res.status));
        if (!ok)
          failures.push(`${path} ${res.status} ${body.slice(0, 120)} -> ${text.slice(0, 200)}`);
      }
    }
    const after = await labCommandCount(labName());
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(cases.length * 20);
    expect(after - before, "SSH commands ran on the director during the hostile requests").toBe(1);
    expect(existsSync(MARKER)).toBe(false);
    const marker = await labExec(labName(), `test -e ${MARKER} && echo present || echo absent`);
    expect(marker.stdout.trim()).toBe("absent");
  });

  it("would have noticed: one legitimate read does show up in the director's log", async () => {
    const before = await labCommandCount(labName());
    const input = encodeURIComponent(JSON.stringify({ json: { directorId: "lab" } }));
    const res = await fetch(`${server.url}/api/trpc/live.status?input=${input}`, {
      headers: { cookie: viewerCookie },
    });
    expect(res.status).toBe(200);
    expect((await labCommandCount(labName())) - before).toBeGreaterThanOrEqual(2);
  });

  it("is still healthy afterwards: no polluted prototypes, the admin still signed in", async () => {
    const res = await fetch(`${server.url}/api/trpc/auth.me`, { headers: { cookie: adminCookie } });
    const body = (await res.json()) as {
      result: { data: { json: { user: { name: string; role: string } | null } } };
    };
    expect(body.result.data.json.user).toEqual({ name: "admin-user", role: "admin" });
    const me = await fetch(`${server.url}/api/trpc/auth.me`, { headers: { cookie: viewerCookie } });
    expect(await me.text()).not.toContain("polluted");
  });
});
