/**
 * Live streams end with their session, at the router with the real session store (SQLite)
 * and the lab director being polled: a logout ends the session's open live.fleet and
 * live.director streams at once with UNAUTHORIZED, an expired session's stream ends at its
 * next push, and another user's stream goes on.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "@/server/auth/password";
import { identify, resetLoginLimits } from "@/server/auth/service";
import { openSessionStreams } from "@/server/auth/session-streams";
import { configFromObject, setConfig } from "@/server/config";
import { closeDb, getDb } from "@/server/db";
import { isConsoleError } from "@/server/errors";
import { getPollers } from "@/server/live/registry";
import { getSshPool } from "@/server/db/ssh-pool";
import { createCallerFactory, createContext, type Context } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { labDirector } from "./lab-director";

const PASSWORD = "correct horse battery";
const createCaller = createCallerFactory(appRouter);
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-session-streams-"));
  process.env.LVS_CONSOLE_DB = path.join(dir, "console.sqlite");
  const { clusterId: _cluster, ...lab } = await labDirector({ id: "lab" });
  const passwordHash = await hashPassword(PASSWORD);
  setConfig(
    configFromObject({
      pollIntervalMs: 1000,
      clusters: [{ id: "lab", directors: [lab] }],
      users: ["vera", "otto"].map((name) => ({ name, role: "viewer", passwordHash })),
    }),
  );
  resetLoginLimits();
});

afterAll(() => {
  getSshPool().closeAll();
  closeDb();
  setConfig(undefined);
  delete process.env.LVS_CONSOLE_DB;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Signs in through auth.login; `request()` is the context of a request with its cookie. */
async function signIn(name: string): Promise<{ ctx: Context; request: () => Context }> {
  const cookies: string[] = [];
  await createCaller(
    createContext({ response: { secure: false, setCookie: (c) => cookies.push(c) } }),
  ).auth.login({ name, password: PASSWORD });
  const cookie = cookies[0]?.split(";")[0] ?? "";
  const request = () => createContext({ ...identify(new Headers({ cookie })) });
  return { ctx: request(), request };
}

/** The next value of a stream, or how it failed: its tRPC code and the console reason. */
async function next<T>(
  it: AsyncIterator<T>,
): Promise<{ value: T } | { done: true } | { code: string; reason: unknown }> {
  try {
    const step = await it.next();
    return step.done ? { done: true } : { value: step.value };
  } catch (e) {
    if (!(e instanceof TRPCError)) throw e;
    return {
      code: e.code,
      reason: isConsoleError(e.cause, "UNAUTHORIZED") ? e.cause.details.reason : null,
    };
  }
}

const within = <T>(ms: number, p: Promise<T>): Promise<T | "still open"> =>
  Promise.race([p, new Promise<"still open">((r) => setTimeout(() => r("still open"), ms))]);

describe("live streams and sessions", () => {
  it("logout ends the session's open streams at once; another session's stream goes on", async () => {
    const { ctx: vera, request } = await signIn("vera");
    const { ctx: otto } = await signIn("otto");
    expect(vera.sessionId).not.toBeNull();
    const fleet = (await createCaller(vera).live.fleet())[Symbol.asyncIterator]();
    const director = (await createCaller(vera).live.director({ directorId: "lab" }))[
      Symbol.asyncIterator
    ]();
    const others = (await createCaller(otto).live.fleet())[Symbol.asyncIterator]();
    try {
      expect(await next(fleet)).toHaveProperty("value.clusters");
      // tracked(id, push) as the router yields it, the first push whole
      expect(await next(director)).toHaveProperty(["value", 1, "status", "directorId"], "lab");
      expect(await next(others)).toHaveProperty("value.clusters");
      expect(openSessionStreams(vera.sessionId ?? "")).toBe(2);

      const waiting = next(director);
      await createCaller(vera).auth.logout();
      // At once, not at the next poll (pollIntervalMs is 1 s).
      expect(await within(500, waiting)).toEqual({
        code: "UNAUTHORIZED",
        reason: "session-ended",
      });
      expect(await within(500, next(fleet))).toEqual({
        code: "UNAUTHORIZED",
        reason: "session-ended",
      });
      expect(openSessionStreams(vera.sessionId ?? "")).toBe(0);
      // The browser's reconnect with the old cookie is refused before it starts...
      await expect(createCaller(request()).live.fleet()).rejects.toMatchObject({
        code: "UNAUTHORIZED",
      });
      // ...and a stream opened on the ended session's context ends before its first value.
      const late = (await createCaller(vera).live.fleet())[Symbol.asyncIterator]();
      expect(await next(late)).toEqual({ code: "UNAUTHORIZED", reason: "session-ended" });

      expect(await next(others)).toHaveProperty("value.clusters");
    } finally {
      await others.return?.();
    }
    expect(openSessionStreams(otto.sessionId ?? "")).toBe(0);
    // Nobody watches any more: the director's poller stops (the ended streams let go of it).
    await new Promise((r) => setTimeout(r, 100));
    expect(getPollers().find("lab")?.running).toBe(false);
  });

  it("ends an expired session's stream at its next push", async () => {
    const { ctx: otto } = await signIn("otto");
    const director = (await createCaller(otto).live.director({ directorId: "lab" }))[
      Symbol.asyncIterator
    ]();
    expect(await next(director)).toHaveProperty(["value", 1, "status", "directorId"], "lab");
    // Twelve hours pass for this session (auth.absoluteHours, the default): the same as
    // waiting, in the real store.
    getDb()
      .prepare("UPDATE sessions SET created_at = created_at - ? WHERE token_hash = ?")
      .run(12 * 3_600_000, otto.sessionId);
    expect(await within(5000, next(director))).toEqual({
      code: "UNAUTHORIZED",
      reason: "session-ended",
    });
    expect(openSessionStreams(otto.sessionId ?? "")).toBe(0);
  });
});
