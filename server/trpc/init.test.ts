/**
 * The error formatter is what the browser sees of a ConsoleError: code, message and details
 * for everyone, the admin-only detail (e.g. which key file failed to log in) for admins only.
 */
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { describe, expect, it } from "vitest";
import { ConsoleError } from "@/server/errors";
import { appRouter } from "./root";
import { createContext, toTRPCError, type Role } from "./init";

const authFailed = new ConsoleError(
  "AUTH_FAILED",
  "authentication as root@192.0.2.11:22 failed (publickey)",
  { directorId: "lvs1", reason: "key-unusable" },
  {
    adminDetail:
      "the private key /etc/lvs-console/id_ed25519 (for root@192.0.2.11:22) is encrypted",
  },
);

function formatted(role: Role | null): unknown {
  const error = toTRPCError(authFailed);
  return appRouter._def._config.errorFormatter({
    error,
    type: "query",
    path: "live.status",
    input: undefined,
    ctx: createContext(role ? { user: { name: `a-${role}`, role } } : {}),
    shape: {
      message: error.message,
      code: -32603,
      data: {
        code: error.code,
        httpStatus: getHTTPStatusCodeFromError(error),
        path: "live.status",
      },
    },
  });
}

describe("error formatter", () => {
  it("gives viewers and operators the redacted error only", () => {
    for (const role of ["viewer", "operator", null] as const) {
      const shape = JSON.stringify(formatted(role));
      expect(shape).toContain('"code":"AUTH_FAILED"');
      expect(shape).toContain("authentication as root@192.0.2.11:22 failed (publickey)");
      expect(shape).not.toContain("/etc/lvs-console/id_ed25519");
      expect(shape).not.toContain("adminDetail");
    }
  });

  it("adds the admin-only detail for admins", () => {
    expect(formatted("admin")).toMatchObject({
      data: {
        console: {
          code: "AUTH_FAILED",
          message: "authentication as root@192.0.2.11:22 failed (publickey)",
          details: { directorId: "lvs1", reason: "key-unusable" },
          adminDetail:
            "the private key /etc/lvs-console/id_ed25519 (for root@192.0.2.11:22) is encrypted",
        },
      },
    });
  });

  it("keeps the admin-only detail out of toJSON (SSE pushes, the audit log)", () => {
    expect(JSON.stringify(authFailed)).not.toContain("id_ed25519");
  });
});
