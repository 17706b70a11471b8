/**
 * Check and apply are one step on the lab director: the commit's commands run under the
 * director's lock (/run/lvs-console.lock, the lasting transaction's), after a read of the
 * rules under that lock. An edit that lands after the console's fresh read but before its
 * commands is a CONFLICT and changes nothing; a lock held too long is REFUSED
 * (director-locked) and changes nothing. The lock holder here is a plain `flock` on the
 * director, as a script of the operators' own would take it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import type { ChangeInput } from "@/server/ipvs/change";
import { LOCK_WAIT_SECONDS } from "@/server/directors/locked-apply";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { repoRoot } from "../../lab/harness";
import { labDirector, labName } from "./lab-director";
import {
  consoleErrorOf,
  operatorCaller,
  restoreRules,
  savedRules,
  setUpConsole,
  tearDownConsole,
} from "./console-harness";

let director: DirectorConfig;
const caller = operatorCaller();
const LOCK = "/run/lvs-console.lock";
const labScript = join(repoRoot, "lab", "lab.sh");

const change: ChangeInput = {
  kind: "setWeight",
  service: { kind: "tcp", address: "203.0.113.10", port: 8080 },
  realserver: { address: "10.10.0.12", port: 80 },
  weight: 7,
};

beforeAll(async () => {
  director = await labDirector();
  setUpConsole([{ id: "lab", directors: [director] }]);
});

const holders: ChildProcess[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) h.kill();
  await restoreRules(labName());
});

afterAll(() => tearDownConsole());

interface Holder {
  /** Lets the holder go on: it waits for the apply to block in flock, runs its command, and ends. */
  release(): void;
  ended: Promise<unknown>;
}

/**
 * Holds the director's lock from an ssh session of its own (lab.sh ssh); resolves once the
 * lock is held. After release() it waits until the console's apply script blocks on the
 * lock (`flock -w`), runs `then` still holding the lock, and lets go by ending.
 */
async function holdLock(then: string | null): Promise<Holder> {
  const after =
    then === null ? "" : `until pgrep -f "^flock -w" >/dev/null; do sleep 0.05; done; ${then}`;
  const child = spawn(
    "bash",
    [
      labScript,
      "ssh",
      "--name",
      labName(),
      "--",
      `flock ${LOCK} sh -c 'echo held; read x; ${after}'`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  holders.push(child);
  const ended = once(child, "exit");
  const { stdout, stdin } = child;
  await new Promise<void>((resolve, reject) => {
    stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("held")) resolve();
    });
    ended.then(() => reject(new Error("the lock holder ended before it held the lock")), reject);
  });
  return { release: () => stdin.end("\n"), ended };
}

describe("the apply's lock on the lab director", () => {
  it("is a CONFLICT, and nothing changes, when a hand edit lands between the read and the commands", async () => {
    const before = await savedRules(labName());
    const preview = await caller.changes.preview({ clusterId: "lab", change });
    // The edit is made while holding the lock, after the console's fresh read.
    const holder = await holdLock("ipvsadm -e -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 9");
    const commit = consoleErrorOf(
      caller.changes.commit({ clusterId: "lab", change, expectedVersions: preview.versions }),
    );
    holder.release();
    await holder.ended;
    const e = await commit;
    expect(e.code).toBe("CONFLICT");
    expect(e.message).toContain("10.10.0.13:80 weight 0 -> 9");
    // Only the hand edit: the console's weight 7 never ran.
    const after = await savedRules(labName());
    expect(after).toContain("-a -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 9");
    expect(after).toContain("-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 2");
    expect(after.filter((l) => !before.includes(l))).toEqual([
      "-a -t 203.0.113.10:8080 -r 10.10.0.13:80 -m -w 9",
    ]);
    const audit = await caller.audit.get({ id: Number(e.details.auditId) });
    expect(audit?.result).toBe("conflict");
  });

  it("waits for a holder that lets go, then applies", async () => {
    const preview = await caller.changes.preview({ clusterId: "lab", change });
    const holder = await holdLock(":");
    const commit = caller.changes.commit({
      clusterId: "lab",
      change,
      expectedVersions: preview.versions,
    });
    holder.release();
    await holder.ended;
    const result = await commit;
    expect(result).toMatchObject({ ok: true, result: "ok" });
    expect(await savedRules(labName())).toContain(
      "-a -t 203.0.113.10:8080 -r 10.10.0.12:80 -m -w 7",
    );
  });

  it(
    "is REFUSED (director-locked), and nothing changes, when the lock stays held",
    async () => {
      const before = await savedRules(labName());
      const preview = await caller.changes.preview({ clusterId: "lab", change });
      const holder = await holdLock(null);
      const t0 = Date.now();
      const e = await consoleErrorOf(
        caller.changes.commit({ clusterId: "lab", change, expectedVersions: preview.versions }),
      );
      const waited = Date.now() - t0;
      holder.release();
      await holder.ended;
      console.info(`apply gave up on a held lock after ${waited} ms`);
      expect(e.code).toBe("REFUSED");
      expect(e.details.reason).toBe("director-locked");
      expect(e.message).toContain(`another change holds the director's lock (${LOCK})`);
      expect(waited).toBeGreaterThanOrEqual(LOCK_WAIT_SECONDS * 1000);
      expect(await savedRules(labName())).toEqual(before);
    },
    LOCK_WAIT_SECONDS * 1000 + 60_000,
  );
});
