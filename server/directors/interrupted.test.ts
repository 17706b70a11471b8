import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb } from "@/server/db";
import { finishAttempt, getAuditEntry, listAudit, recordAttempt } from "@/server/db/audit";
import { rulesOf } from "@/server/ipvs/rules";
import { FakeCluster } from "@/test/support/fake-director";
import { setDirectorIo } from "./io";
import { recoverInterruptedAttempts } from "./interrupted";

let dir: string;
let cluster: FakeCluster;
let restore: () => void;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-interrupted-"));
  process.env.LVS_CONSOLE_DB = path.join(dir, "console.sqlite");
});
afterAll(() => {
  closeDb();
  delete process.env.LVS_CONSOLE_DB;
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  cluster = new FakeCluster("prod", ["lvs1", "lvs2"]);
  restore = setDirectorIo(cluster);
});
afterEach(() => restore());

describe("attempts a crash left pending", () => {
  it("are marked interrupted at start, with what each director holds now or that it is unreachable", async () => {
    const web = cluster.director("lvs1").services[0];
    if (!web) throw new Error("no service");
    const attempt = {
      user: "alice",
      action: "change",
      clusterId: "prod",
      directors: ["lvs1", "lvs2"],
      summary: "set weight of 10.10.0.11:80 in TCP 203.0.113.10:80 to 0",
      change: { kind: "setWeight" },
      before: { lvs1: { version: "v-before", services: rulesOf([web]) } },
    };
    const crashed = recordAttempt(attempt);
    const finished = recordAttempt(attempt);
    finishAttempt(finished, { result: "ok" });
    cluster.director("lvs2").unreachable = true;

    const recovered = recoverInterruptedAttempts();
    // Marked before any director is read: a request served meanwhile sees no pending attempt.
    expect(getAuditEntry(crashed)?.result).toBe("interrupted");
    expect(listAudit({ result: "pending" }).entries).toEqual([]);
    expect((await recovered).map((e) => e.id)).toEqual([crashed]);

    const entry = getAuditEntry(crashed);
    expect(entry?.result).toBe("interrupted");
    expect(entry?.finishedAt).not.toBeNull();
    expect(entry?.after?.lvs1?.version).toBe(cluster.versions().lvs1);
    // Only the services the attempt touched.
    expect(entry?.after?.lvs1?.services.map((s) => s.key)).toEqual([web.key]);
    expect(entry?.details).toMatchObject({
      interrupted: {
        directors: [
          { directorId: "lvs1", read: true, version: cluster.versions().lvs1 },
          { directorId: "lvs2", read: false, unreachable: true, error: { code: "UNREACHABLE" } },
        ],
      },
    });
    expect(listAudit({ result: "interrupted" }).entries.map((e) => e.id)).toEqual([crashed]);
    expect(getAuditEntry(finished)?.result).toBe("ok");
    // A second start finds nothing left.
    expect(await recoverInterruptedAttempts()).toEqual([]);
  });
});
