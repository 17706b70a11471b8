/**
 * Every ConsoleError code reaches the browser with its own HTTP status: an unreachable
 * director or a refused host key is a gateway's failure (5xx other than 500), bad input a
 * 4xx, and only the console's own bug a 500.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConsoleError, type ConsoleErrorCode } from "@/server/errors";
import { createCallerFactory, createContext, publicProcedure, router } from "./init";

/** Written out apart from the table under test, so a change to it is a decision. */
const HTTP_STATUS: Record<ConsoleErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  REFUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  PARSE_ERROR: 502,
  UNREACHABLE: 502,
  AUTH_FAILED: 502,
  HOST_KEY_UNKNOWN: 502,
  HOST_KEY_CHANGED: 502,
  COMMAND_FAILED: 502,
  PARTIAL: 502,
  VERIFY_FAILED: 502,
  CHANNEL_REFUSED: 503,
  TIMEOUT: 504,
};

const CODES = Object.keys(HTTP_STATUS) as ConsoleErrorCode[];

/** A service failing with a ConsoleError of the asked code (details are free context here). */
function fail(code: ConsoleErrorCode): never {
  const E = ConsoleError as unknown as new (c: string, m: string, d: object) => Error;
  throw new E(code, `failed with ${code}`, { directorId: "lvs1" });
}

const testRouter = router({
  fail: publicProcedure
    .input(z.object({ code: z.string() }))
    .query(({ input }) => fail(input.code as ConsoleErrorCode)),
  failLater: publicProcedure.input(z.object({ code: z.string() })).mutation(async ({ input }) => {
    await Promise.resolve();
    fail(input.code as ConsoleErrorCode);
  }),
});
const caller = createCallerFactory(testRouter)(createContext());

describe("ConsoleError code -> HTTP status", () => {
  it.each(CODES)("%s", async (code) => {
    const error = await caller.fail({ code }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeNull();
    expect(
      getHTTPStatusCodeFromError(error as Parameters<typeof getHTTPStatusCodeFromError>[0]),
    ).toBe(HTTP_STATUS[code]);
    const later = await caller.failLater({ code }).catch((e: unknown) => e);
    expect(
      getHTTPStatusCodeFromError(later as Parameters<typeof getHTTPStatusCodeFromError>[0]),
    ).toBe(HTTP_STATUS[code]);
  });
});

describe("over HTTP (the fetch adapter the route uses)", () => {
  async function get(code: ConsoleErrorCode): Promise<Response> {
    const input = encodeURIComponent(JSON.stringify({ json: { code } }));
    return fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request(`http://127.0.0.1/api/trpc/fail?input=${input}`),
      router: testRouter,
      createContext: () => createContext(),
    });
  }

  it.each([
    ["UNREACHABLE", 502],
    ["HOST_KEY_UNKNOWN", 502],
    ["HOST_KEY_CHANGED", 502],
    ["TIMEOUT", 504],
    ["CHANNEL_REFUSED", 503],
    ["CONFLICT", 409],
    ["INTERNAL", 500],
  ] as const)("a %s answers %i with the console's code in the body", async (code, status) => {
    const res = await get(code);
    expect(res.status).toBe(status);
    const body = (await res.json()) as {
      error: { json: { data: { httpStatus: number; console: { code: string } | null } } };
    };
    expect(body.error.json.data.httpStatus).toBe(status);
    expect(body.error.json.data.console?.code).toBe(code);
  });
});
