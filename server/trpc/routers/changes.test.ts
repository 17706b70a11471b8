import { describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { createCallerFactory, createContext } from "../init";
import { appRouter } from "../root";

const operator = createCallerFactory(appRouter)(
  createContext({ user: { name: "operator-user", role: "operator" }, remoteAddress: "127.0.0.1" }),
);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof TRPCError) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error("expected a TRPCError");
}

describe("changes.commit", () => {
  // Input validation runs before any director is looked up or contacted.
  it("refuses a drain or undrain, which must go through the drains router", async () => {
    expect(
      await codeOf(
        operator.changes.commit({
          clusterId: "lab",
          change: { kind: "drain", realserver: { address: "10.10.0.11", port: 80 } },
          expectedVersions: {},
        }),
      ),
    ).toMatch(/^BAD_REQUEST: .*drains go through drains.start and drains.undrain/s);
    expect(
      await codeOf(
        operator.changes.commit({
          clusterId: "lab",
          change: {
            kind: "undrain",
            realserver: { address: "10.10.0.11", port: 80 },
            weights: [
              { service: { kind: "tcp", address: "203.0.113.10", port: 80 }, port: 80, weight: 1 },
            ],
          },
          expectedVersions: {},
        }),
      ),
    ).toMatch(/^BAD_REQUEST: .*drains go through drains.start and drains.undrain/s);
  });
});
