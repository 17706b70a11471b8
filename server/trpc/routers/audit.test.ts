/**
 * What a failed command printed, in the audit log: stored cut to 4096 characters (marked),
 * shipped to operators and admins, never to viewers (nor found by a viewer's text search).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_OUTPUT_CHARS, cutMarker } from "@/server/db/audit-output";
import { finishAttempt, recordAttempt } from "@/server/db/audit";
import { closeDb } from "@/server/db";
import { appRouter } from "@/server/trpc/root";
import { createCallerFactory, createContext, type Role } from "@/server/trpc/init";

let dir: string;
const secret = "ssh-secret-line";
const longStderr = `${secret}\n${"e".repeat(20_000)}`;
const longStdout = "o".repeat(10_000);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lvs-audit-router-"));
  process.env.LVS_CONSOLE_DB = join(dir, "console.sqlite");
  const id = recordAttempt({
    user: "alice",
    action: "change",
    clusterId: "prod",
    directors: ["lvs1"],
    summary: "setWeight TCP 203.0.113.10:80 10.10.0.11:80 -> 0",
    change: { kind: "setWeight" },
  });
  finishAttempt(id, {
    result: "failed",
    error: {
      code: "COMMAND_FAILED",
      message: "ipvsadm failed on lvs1 with exit code 255",
      details: {
        directorId: "lvs1",
        argv: ["ipvsadm"],
        exitCode: 255,
        stderr: longStderr,
        stdout: longStdout,
        ipvs: null,
      },
    },
    details: {
      results: [
        {
          directorId: "lvs1",
          ok: false,
          steps: [{ argv: ["ipvsadm"], exitCode: 255, stderr: longStderr, stdout: "short" }],
        },
      ],
    },
  });
});

afterAll(() => {
  closeDb();
  delete process.env.LVS_CONSOLE_DB;
  rmSync(dir, { recursive: true, force: true });
});

const callerFor = (role: Role) =>
  createCallerFactory(appRouter)(createContext({ user: { name: `a-${role}`, role } }));

describe("audit.list and audit.get: command output", () => {
  it.each(["operator", "admin"] as const)(
    "gives %s the output, stored cut and marked",
    async (role) => {
      const caller = callerFor(role);
      const [entry] = (await caller.audit.list()).entries;
      const stderr = `${longStderr.slice(0, AUDIT_OUTPUT_CHARS)}${cutMarker(longStderr.length - AUDIT_OUTPUT_CHARS)}`;
      expect(entry?.error).toMatchObject({
        details: { stderr, stdout: `${longStdout.slice(0, 4096)}${cutMarker(10_000 - 4096)}` },
      });
      expect(entry?.details).toEqual({
        results: [
          {
            directorId: "lvs1",
            ok: false,
            steps: [{ argv: ["ipvsadm"], exitCode: 255, stderr, stdout: "short" }],
          },
        ],
      });
      expect((await caller.audit.list({ text: secret })).entries).toHaveLength(1);
      expect((await caller.audit.get({ id: entry?.id ?? 0 })).error).toEqual(entry?.error);
    },
  );

  it("gives viewers the entry without any command output", async () => {
    const caller = callerFor("viewer");
    const [entry] = (await caller.audit.list()).entries;
    expect(entry?.error).toEqual({
      code: "COMMAND_FAILED",
      message: "ipvsadm failed on lvs1 with exit code 255",
      details: { directorId: "lvs1", argv: ["ipvsadm"], exitCode: 255, ipvs: null },
    });
    expect(entry?.details).toEqual({
      results: [{ directorId: "lvs1", ok: false, steps: [{ argv: ["ipvsadm"], exitCode: 255 }] }],
    });
    expect(JSON.stringify(await caller.audit.get({ id: entry?.id ?? 0 }))).not.toContain(secret);
    // Searching what commands printed would tell a viewer what they printed.
    expect((await caller.audit.list({ text: secret })).entries).toHaveLength(0);
    expect((await caller.audit.list({ text: "exit code 255" })).entries).toHaveLength(1);
  });
});
