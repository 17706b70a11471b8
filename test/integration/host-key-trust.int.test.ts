/**
 * The "trust this host key" step against real SSH: an admin may trust a director's unknown
 * key, never a jump host's (its key belongs in lvs-console.yaml), and the error the UI gets
 * for a jump host's unknown key does not offer the trust step.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trustableHostKey } from "@/components/errors";
import { listAudit } from "@/server/db/audit";
import { getDirector } from "@/server/config/directors";
import { getTrustedHostKey } from "@/server/db/host-keys";
import { getSshPool } from "@/server/db/ssh-pool";
import { createCallerFactory, createContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { readLabDirector, type LabDirector } from "../../lab/harness";
import { consoleErrorOf, setUpConsole, tearDownConsole } from "./console-harness";
import { directorConfigOf, labAsJumpHost, labName } from "./lab-director";

let lab: LabDirector;
let dir: string;

const admin = () =>
  createCallerFactory(appRouter)(
    createContext({ user: { name: "trust-admin", role: "admin" }, remoteAddress: "127.0.0.1" }),
  );

beforeAll(async () => {
  lab = await readLabDirector(labName());
  dir = mkdtempSync(join(tmpdir(), "lvs-trust-"));
  const emptyKnownHosts = join(dir, "known_hosts");
  writeFileSync(emptyKnownHosts, "");
  // Both directors are the lab's own sshd (127.0.0.1:22 inside the guest), with no key of
  // their own configured; only their jump hosts differ.
  const behindJump = (id: string, jumpHost: ReturnType<typeof labAsJumpHost>) =>
    directorConfigOf(lab, {
      id,
      host: "127.0.0.1",
      port: 22,
      hostKeyFingerprint: undefined,
      jumpHost,
    });
  setUpConsole([
    {
      id: "lab",
      directors: [
        behindJump(
          "jump-unknown",
          labAsJumpHost(lab, { hostKeyFingerprint: undefined, knownHostsPath: emptyKnownHosts }),
        ),
        behindJump("jump-pinned", labAsJumpHost(lab)),
      ],
    },
  ]);
});

afterAll(() => {
  tearDownConsole();
  rmSync(dir, { recursive: true, force: true });
});

describe("trusting host keys", () => {
  it("refuses to trust a jump host's key, records the refusal, and the UI offers no trust step", async () => {
    const unknown = await consoleErrorOf(getSshPool().exec(getDirector("jump-unknown"), ["true"]));
    expect(unknown.code).toBe("HOST_KEY_UNKNOWN");
    expect(unknown.details).toMatchObject({
      role: "jumpHost",
      fingerprint: lab.hostKeyFingerprint,
    });
    expect(unknown.message).toMatch(/Jump host keys are not trusted from the console/);
    // What the director page and the change dialog receive decides the button.
    expect(trustableHostKey(unknown.toJSON())).toBeNull();

    const refused = await consoleErrorOf(
      admin().hostKeys.trust({
        directorId: "jump-unknown",
        fingerprint: lab.hostKeyFingerprint,
        replaces: null,
      }),
    );
    expect(refused.code).toBe("REFUSED");
    expect(refused.details).toEqual({
      directorId: "jump-unknown",
      role: "jumpHost",
      reason: "jump-host-key-not-configured",
    });
    expect(refused.message).toMatch(/add it there \(or set jumpHost\.hostKeyFingerprint/);
    expect(getTrustedHostKey("jump-unknown")).toBeNull();
    const [entry] = listAudit({ directorId: "jump-unknown" }).entries;
    expect(entry).toMatchObject({
      action: "hostKey.trust",
      result: "refused",
      user: "trust-admin",
    });
    // Still refused at the jump host: nothing was recorded that would let it through.
    expect(
      (await consoleErrorOf(getSshPool().exec(getDirector("jump-unknown"), ["true"]))).code,
    ).toBe("HOST_KEY_UNKNOWN");
  });

  it("trusts the unknown key of a director behind a pinned jump host", async () => {
    const unknown = await consoleErrorOf(getSshPool().exec(getDirector("jump-pinned"), ["true"]));
    expect(unknown.code).toBe("HOST_KEY_UNKNOWN");
    expect(unknown.details.role).toBe("director");
    const offered = trustableHostKey(unknown.toJSON());
    expect(offered).toEqual({ directorId: "jump-pinned", fingerprint: lab.hostKeyFingerprint });

    await admin().hostKeys.trust({
      directorId: "jump-pinned",
      fingerprint: lab.hostKeyFingerprint,
      replaces: null,
    });
    expect(getTrustedHostKey("jump-pinned")?.trustedBy).toBe("trust-admin");
    const r = await getSshPool().exec(getDirector("jump-pinned"), ["echo", "trusted"]);
    expect(r.stdout).toBe("trusted\n");
  });
});
