/**
 * Walks every procedure of the real appRouter, as it is at test time, so a router added
 * later is checked without touching this file: each procedure must refuse anonymous callers
 * and callers below its minimum role. The minimum comes from the procedure's type, or from
 * the short EXCEPTIONS table; a public procedure not listed there fails the test.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setConfig } from "@/server/config";
import { appRouter } from "@/server/trpc/root";
import { createCallerFactory, createContext, type Context, type Role } from "@/server/trpc/init";
import { authConfigSchema } from "@/server/config/users-schema";

type Level = "public" | Role;
type ProcedureType = "query" | "mutation" | "subscription";

const MIN_BY_TYPE: Record<ProcedureType, Level> = {
  query: "viewer",
  subscription: "viewer",
  mutation: "operator",
};

const EXCEPTIONS: Record<string, Level> = {
  health: "public",
  "auth.login": "public",
  "auth.me": "public",
  "auth.logout": "viewer",
  // Reads, but makes the director work: a mutation (CSRF-checked), open to viewers.
  "connections.readNow": "viewer",
  "hostKeys.trust": "admin",
  // Closes a drain without touching a director: an admin's way out.
  "drains.abandon": "admin",
};

const LEVELS: Level[] = ["public", "viewer", "operator", "admin"];
const ROLES: Role[] = ["viewer", "operator", "admin"];

function procedures(): Array<{ path: string; type: ProcedureType }> {
  const record = appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: ProcedureType } }
  >;
  return Object.entries(record).map(([path, proc]) => ({ path, type: proc._def.type }));
}

const createCaller = createCallerFactory(appRouter);

/** The tRPC error code a call ends with, "ok" when it succeeds, "pending" when it is still busy. */
async function outcome(ctx: Context, path: string, input: unknown): Promise<string> {
  let node: unknown = createCaller(ctx);
  for (const part of path.split(".")) node = (node as Record<string, unknown>)[part];
  const call = async (): Promise<string> => {
    try {
      const result: unknown = await (node as (input: unknown) => Promise<unknown>)(input);
      // A subscription hands back an iterator; do not start it, just close it.
      if (result && typeof result === "object" && Symbol.asyncIterator in result) {
        await (result as unknown as AsyncIterator<unknown>).return?.();
      }
      return "ok";
    } catch (e) {
      return e instanceof TRPCError ? e.code : "THROWN";
    }
  };
  // Authorization runs first; anything still running after that has got past it.
  return Promise.race([
    call(),
    new Promise<string>((r) => setTimeout(() => r("pending"), 3000).unref()),
  ]);
}

const anonymous = () => createContext({ remoteAddress: "127.0.0.1" });
const as = (role: Role) =>
  createContext({ user: { name: `test-${role}`, role }, remoteAddress: "127.0.0.1" });
const refused = (code: string) => code === "UNAUTHORIZED" || code === "FORBIDDEN";

/** The lowest level that gets past authorization, or null when even admin is refused. */
async function actualLevel(
  path: string,
): Promise<{ level: Level | null; anonymousCode: string; codes: Record<Role, string> }> {
  const input = undefined;
  const anonymousCode = await outcome(anonymous(), path, input);
  const codes = {} as Record<Role, string>;
  for (const role of ROLES) codes[role] = await outcome(as(role), path, input);
  let level: Level | null = null;
  if (!refused(anonymousCode)) level = "public";
  else level = ROLES.find((r) => !refused(codes[r])) ?? null;
  return { level, anonymousCode, codes };
}

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "lvs-authz-"));
  process.env.LVS_CONSOLE_DB = join(dir, "console.sqlite");
  // No clusters: a procedure that gets past authorization has nothing to connect to.
  setConfig({
    file: "<inline>",
    pollIntervalMs: 2000,
    dataDir: dir,
    clusters: [],
    users: [],
    auth: authConfigSchema.parse({}),
  });
});
afterAll(() => setConfig(undefined));

describe("authorization on every tRPC procedure", () => {
  const all = procedures();

  it("finds the procedures, including auth", () => {
    expect(all.map((p) => p.path)).toEqual(
      expect.arrayContaining(["auth.login", "auth.logout", "auth.me"]),
    );
  });

  it("lists no exception for a procedure that does not exist", () => {
    const paths = new Set(all.map((p) => p.path));
    expect(Object.keys(EXCEPTIONS).filter((p) => !paths.has(p))).toEqual([]);
  });

  it("keeps mutations at operator or above, except signing in and out and reading a table", () => {
    const low = all.filter(
      (p) =>
        p.type === "mutation" &&
        LEVELS.indexOf(EXCEPTIONS[p.path] ?? "operator") < LEVELS.indexOf("operator"),
    );
    expect(low.map((p) => p.path).sort()).toEqual([
      "auth.login",
      "auth.logout",
      "connections.readNow",
    ]);
  });

  for (const { path, type } of procedures()) {
    const expected = EXCEPTIONS[path] ?? MIN_BY_TYPE[type];
    it(`${type} ${path}: needs ${expected}`, async () => {
      const { level, anonymousCode, codes } = await actualLevel(path);
      expect({ path, level }).toEqual({ path, level: expected });
      if (expected !== "public") expect(anonymousCode).toBe("UNAUTHORIZED");
      for (const role of ROLES) {
        if (LEVELS.indexOf(role) < LEVELS.indexOf(expected)) expect(codes[role]).toBe("FORBIDDEN");
        else expect(refused(codes[role])).toBe(false);
      }
      if (type === "mutation" && path !== "auth.login") expect(anonymousCode).toBe("UNAUTHORIZED");
    });
  }
});
