/**
 * The owner read on the lab director, which has keepalived installed but not running (its
 * rules come from the ipvsadm rules file): a one-shot keepalived (`--version`, which every
 * owner read runs, or a `-t` config test) is not the daemon. The owner script once took the
 * other read's `keepalived --version` for it, killed it with SIGUSR1 and waited out its
 * tries for a dump that never came: 10 s timeouts in the browser tests' change flows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorConfig } from "@/server/config";
import { readOwner } from "@/server/live/owner";
import { createSshPool, type SshPool } from "@/server/ssh/pool";
import type { TrustStore } from "@/server/ssh/host-keys";
import { labDirector, labName } from "./lab-director";
import { onLab } from "./console-harness";

const noTrust: TrustStore = { get: () => null };
/** A stand-in for a one-shot keepalived: a script called keepalived (so its comm is). */
const FAKE = "/tmp/owner-lab-test/keepalived";
let director: DirectorConfig;
let pool: SshPool;

beforeAll(async () => {
  director = await labDirector();
  pool = createSshPool({ trust: noTrust });
});

afterAll(async () => {
  pool.closeAll();
  await onLab(labName(), `pkill -f '^/bin/sh ${FAKE} ' ; rm -rf /tmp/owner-lab-test; true`);
});

describe("the owner read on a director without a keepalived daemon", () => {
  it("takes no one-shot keepalived for the daemon and leaves it running", async () => {
    const pids = (
      await onLab(
        labName(),
        [
          `mkdir -p ${FAKE.replace(/\/[^/]+$/, "")}`,
          `printf '#!/bin/sh\\nsleep 120\\n' > ${FAKE}`,
          `chmod +x ${FAKE}`,
          `${FAKE} --version </dev/null >/dev/null 2>&1 & echo $!`,
          `${FAKE} -t -f /etc/keepalived/keepalived.conf </dev/null >/dev/null 2>&1 & echo $!`,
          `${FAKE} -v </dev/null >/dev/null 2>&1 & echo $!`,
        ].join("\n"),
      )
    )
      .trim()
      .split("\n");
    expect(pids).toHaveLength(3);
    for (const pid of pids) {
      expect((await onLab(labName(), `cat /proc/${pid}/comm`)).trim()).toBe("keepalived");
    }

    const inputs = await readOwner(pool, director);
    expect(inputs?.raw.keepalived.pid).toBeNull();
    expect(inputs?.raw.keepalived.dumpWaits).toBeNull();
    expect(inputs?.raw.keepalived.version).toMatch(/^Keepalived v2\./);
    expect(Object.keys(inputs?.raw.rulesFiles ?? {})).toContain("/etc/ipvsadm.rules");
    // None was sent SIGUSR1 (which ends a process that does not catch it).
    const alive = await onLab(labName(), pids.map((p) => `kill -0 ${p} && echo ${p}`).join("; "));
    expect(alive.trim().split("\n")).toEqual(pids);
  });
});
