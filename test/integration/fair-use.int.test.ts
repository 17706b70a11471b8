/**
 * Fair use of the lab director: viewers' reads cannot take the channel a change needs,
 * concurrent previews share one read (counted in the guest), and output caps fit each
 * command.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { DirectorConfig } from "@/server/config";
import { getSshPool } from "@/server/db/ssh-pool";
import { previewReadsStarted } from "@/server/directors/plan";
import type { ChangeInput } from "@/server/ipvs/change";
import { CONN_TABLE_MAX_OUTPUT_BYTES, createSshPool } from "@/server/ssh/pool";
import type { TrustStore } from "@/server/ssh/host-keys";
import { rejectionOf } from "@/test/support/errors";
import { labDirector, labName } from "./lab-director";
import { onLab, operatorCaller, setUpConsole, tearDownConsole } from "./console-harness";

const noTrust: TrustStore = { get: () => null };
let director: DirectorConfig;

beforeAll(async () => {
  director = await labDirector();
  setUpConsole([{ id: "lab", directors: [director] }]);
});

afterAll(() => {
  tearDownConsole();
});

/** Commands SSH sessions and the console's shells ran in the guest (lab-commands counts itself). */
async function guestCommands(): Promise<number> {
  return Number((await onLab(labName(), "lab-commands")).trim());
}

describe("a change never waits behind reads", () => {
  it("keeps one of the connection's channels for changes while reads hold the others", async () => {
    // Exec channels only (no shell), the default 4 of them: four reads that wait for a file
    // only the change creates. Were the reads to take all four, the change would wait for
    // them and they for it, until the timeouts.
    const pool = createSshPool({ trust: noTrust, shell: false });
    const marker = `/tmp/fair-use-${process.pid}-${Date.now()}`;
    try {
      const waitForMarker = 'while [ ! -e "$1" ]; do sleep 0.1; done; echo read';
      const reads = Array.from({ length: 4 }, () =>
        pool.execScript(director, waitForMarker, { args: [marker], timeoutMs: 30_000 }),
      );
      // Three reads hold channels and the fourth waits: the fourth channel stays free.
      await vi.waitFor(() => expect(pool.stats(director.id).inFlight).toBe(3), {
        timeout: 10_000,
      });
      const change = await pool.exec(director, ["touch", marker], { timeoutMs: 10_000 });
      expect(change.exitCode).toBe(0);
      expect((await Promise.all(reads)).map((r) => r.stdout)).toEqual(Array(4).fill("read\n"));
    } finally {
      await pool.exec(director, ["rm", "-f", marker]).catch(() => undefined);
      pool.closeAll();
    }
  });
});

describe("previews share reads", () => {
  it("runs one read in the guest for many concurrent previews and the one right after", async () => {
    const caller = operatorCaller();
    const change: ChangeInput = {
      kind: "setWeight",
      service: { kind: "tcp", address: "203.0.113.10", port: 8080 },
      realserver: { address: "10.10.0.12", port: 80 },
      weight: 7,
    };
    // Connect first: the handshake and the shell's start are no preview's cost.
    await getSshPool().execScript(director, "true");
    const startedBefore = previewReadsStarted();
    const before = await guestCommands();
    const previews = await Promise.all(
      Array.from({ length: 8 }, () => caller.changes.preview({ clusterId: "lab", change })),
    );
    const right = await caller.changes.preview({ clusterId: "lab", change });
    const after = await guestCommands();
    // One snapshot script, plus the lab-commands session that counted this.
    expect(after - before - 1).toBe(1);
    expect(previewReadsStarted() - startedBefore).toBe(1);
    const versions = new Set([...previews, right].map((p) => p.versions[director.id]));
    expect(versions.size).toBe(1);
  });
});

describe("output caps per command", () => {
  // (Scripts have the same default cap, in the shell too: ssh.int.test.ts.)
  it("caps a command's output at 8 MiB; the connection table's read may print more", async () => {
    const pool = createSshPool({ trust: noTrust });
    try {
      const command = await rejectionOf(
        pool.exec(director, ["head", "-c", "9437184", "/dev/zero"]),
        "COMMAND_FAILED",
      );
      expect(command.message).toMatch(/more than 8388608 bytes/);
      const large = await pool.exec(director, ["head", "-c", "9437184", "/dev/zero"], {
        maxOutputBytes: CONN_TABLE_MAX_OUTPUT_BYTES,
        lane: "read",
      });
      expect(large.stdout.length).toBe(9437184);
    } finally {
      pool.closeAll();
    }
  });
});
