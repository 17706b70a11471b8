import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromObject, setConfig } from "@/server/config";
import { createCallerFactory, createContext, type Role } from "../init";
import { appRouter } from "../root";

const FP = "SHA256:gLY5K9zA0sGE2abP1lW7Q5/Rxqqts632k+PT2YRSYZY";
const OTHER = "SHA256:" + "Q".repeat(43);
const caller = (role: Role) =>
  createCallerFactory(appRouter)(
    createContext({ user: { name: `${role}-user`, role }, remoteAddress: "127.0.0.1" }),
  );

beforeAll(() => {
  process.env.LVS_CONSOLE_DB = join(mkdtempSync(join(tmpdir(), "lvs-inventory-")), "test.sqlite");
  setConfig(
    configFromObject(
      {
        clusters: [
          {
            id: "web",
            name: "Web pair",
            directors: [
              {
                id: "lb1",
                host: "192.0.2.10",
                privateKeyPath: "/keys/secret-key",
                passphraseEnv: "SECRET_PASSPHRASE",
                hostKeyFingerprint: FP,
              },
              { id: "lb2", host: "192.0.2.11", user: "lvs", sudo: true, agent: true },
              {
                id: "lb3",
                host: "10.0.0.3",
                port: 2222,
                agent: true,
                knownHostsPath: "/keys/known_hosts",
                jumpHost: {
                  host: "bastion.example.net",
                  user: "ops",
                  agent: true,
                  hostKeyFingerprint: FP,
                },
              },
            ],
          },
        ],
      },
      "test.yaml",
      "/",
      { checkFiles: false },
    ),
  );
});

afterAll(() => {
  setConfig(undefined);
});

describe("inventory.list", () => {
  it("lists clusters and directors without secrets", async () => {
    const clusters = await caller("viewer").inventory.list();
    expect(clusters).toEqual([
      {
        id: "web",
        name: "Web pair",
        directors: [
          {
            id: "lb1",
            clusterId: "web",
            host: "192.0.2.10",
            port: 22,
            user: "root",
            sudo: false,
            hostKey: "pinned",
            jumpHost: null,
          },
          {
            id: "lb2",
            clusterId: "web",
            host: "192.0.2.11",
            port: 22,
            user: "lvs",
            sudo: true,
            hostKey: "none",
            jumpHost: null,
          },
          {
            id: "lb3",
            clusterId: "web",
            host: "10.0.0.3",
            port: 2222,
            user: "root",
            sudo: false,
            hostKey: "known_hosts",
            jumpHost: "ops@bastion.example.net:22",
          },
        ],
      },
    ]);
    const text = JSON.stringify(clusters);
    for (const secret of ["/keys/", "secret-key", "SECRET_PASSPHRASE", FP])
      expect(text).not.toContain(secret);
  });

  it("needs a signed-in user", async () => {
    await expect(
      createCallerFactory(appRouter)(createContext()).inventory.list(),
    ).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("hostKeys.trust", () => {
  it("records a key an admin trusts, and shows the director as trusted", async () => {
    await expect(
      caller("admin").hostKeys.trust({ directorId: "lb2", fingerprint: FP, replaces: null }),
    ).resolves.toEqual({ ok: true });
    const [cluster] = await caller("viewer").inventory.list();
    expect(cluster?.directors.find((d) => d.id === "lb2")?.hostKey).toBe("trusted");
    // a later trust replaces the key it names
    await caller("admin").hostKeys.trust({ directorId: "lb2", fingerprint: OTHER, replaces: FP });
    const { getTrustedHostKey } = await import("@/server/db/host-keys");
    expect(getTrustedHostKey("lb2")).toMatchObject({ fingerprint: OTHER, trustedBy: "admin-user" });
    const { listAudit } = await import("@/server/db/audit");
    const entries = listAudit({ directorId: "lb2" }).entries;
    expect(entries.map((e) => [e.action, e.result, e.user])).toEqual([
      ["hostKey.trust", "ok", "admin-user"],
      ["hostKey.trust", "ok", "admin-user"],
    ]);
  });

  it("refuses a trust that does not name the key it replaces", async () => {
    const { getTrustedHostKey } = await import("@/server/db/host-keys");
    const trusted = getTrustedHostKey("lb2")?.fingerprint ?? null;
    const stale = trusted === FP ? OTHER : FP;
    // A first-trust call (a stale page) and one naming another key both change nothing.
    for (const replaces of [null, stale]) {
      await expect(
        caller("admin").hostKeys.trust({ directorId: "lb2", fingerprint: stale, replaces }),
      ).rejects.toMatchObject({ code: "CONFLICT" });
    }
    expect(getTrustedHostKey("lb2")?.fingerprint).toBe(trusted);
    await expect(
      caller("admin").hostKeys.trust({ directorId: "lb2", fingerprint: stale, replaces: trusted }),
    ).resolves.toEqual({ ok: true });
    const { listAudit } = await import("@/server/db/audit");
    expect(
      listAudit({ directorId: "lb2" }).entries.filter((e) => e.result === "refused"),
    ).toHaveLength(2);
  });

  it("refuses to override a pinned key", async () => {
    await expect(
      caller("admin").hostKeys.trust({ directorId: "lb1", fingerprint: OTHER, replaces: null }),
    ).rejects.toMatchObject({
      message: expect.stringContaining("lvs-console.yaml") as string,
    });
  });

  it("is for admins only, and checks the fingerprint's form and the director", async () => {
    await expect(
      caller("operator").hostKeys.trust({ directorId: "lb2", fingerprint: FP, replaces: null }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      caller("admin").hostKeys.trust({ directorId: "lb2", fingerprint: "MD5:aa", replaces: null }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller("admin").hostKeys.trust({ directorId: "nope", fingerprint: FP, replaces: null }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
