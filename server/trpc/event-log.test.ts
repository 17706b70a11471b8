import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { ConsoleError } from "@/server/errors";
import { inputFields, outcomeOf } from "./event-log";

const FP = "SHA256:gLY5K9zA0sGE2abP1lW7Q5/Rxqqts632k+PT2YRSYZY";

describe("mutation log fields", () => {
  it.each([
    [
      "changes.commit",
      { clusterId: "web", change: { kind: "edit-realserver" }, expectedVersions: { lvs1: "v" } },
      { cluster: "web", kind: "edit-realserver" },
    ],
    [
      "drains.start",
      { clusterId: "web", realserver: { address: "10.10.0.11", port: 80 }, expectedVersions: {} },
      { cluster: "web", realserver: "10.10.0.11:80" },
    ],
    ["drains.undrain", { drainId: 7, expectedVersions: {} }, { drainId: 7 }],
    [
      "hostKeys.trust",
      { directorId: "lvs1", fingerprint: FP },
      { director: "lvs1", fingerprint: FP },
    ],
    ["auth.login", { name: "alice", password: "hunter2-hunter2" }, { user: "alice" }],
    ["auth.login", { name: "p@ss word!", password: "x" }, { user: "[not a user name]" }],
    ["changes.commit", { clusterId: "web; rm -rf /", change: "nope" }, {}],
  ])("%s %j -> %j", (path, input, expected) => {
    const fields = inputFields(path, input);
    expect(fields).toEqual(expected);
    expect(JSON.stringify(fields)).not.toContain("hunter2");
  });

  it("takes the result of an apply, or the error code", () => {
    expect(outcomeOf({ ok: true, data: { auditId: 3, result: "partial" } })).toEqual({
      ok: false,
      result: "partial",
    });
    expect(outcomeOf({ ok: true, data: { user: { name: "a" } } })).toEqual({
      ok: true,
      result: "ok",
    });
    const conflict = new TRPCError({
      code: "CONFLICT",
      message: "changed",
      cause: new ConsoleError("CONFLICT", "changed", {}),
    });
    expect(outcomeOf({ ok: false, error: conflict })).toEqual({ ok: false, result: "CONFLICT" });
    expect(
      outcomeOf({
        ok: false,
        error: new TRPCError({ code: "TOO_MANY_REQUESTS", message: "wait" }),
      }),
    ).toEqual({ ok: false, result: "TOO_MANY_REQUESTS" });
  });
});
