import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrations, openDb, type Db } from "./index";
import {
  finishAttempt,
  interruptPending,
  listAudit,
  recordAttempt,
  type AttemptInput,
} from "./audit";

let dir: string;
let file: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-audit-"));
  file = path.join(dir, "console.sqlite");
  db = openDb(file);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const weightChange: AttemptInput = {
  user: "alice",
  remoteAddress: "127.0.0.1",
  action: "change",
  clusterId: "prod",
  directors: ["lvs1", "lvs2"],
  summary: "setWeight TCP 203.0.113.10:80 10.10.0.11:80 -> 0",
  change: { kind: "setWeight", weight: 0 },
  argv: {
    lvs1: [
      [
        "ipvsadm",
        "-e",
        "-t",
        "203.0.113.10:80",
        "-r",
        "10.10.0.11:80",
        "-m",
        "-w",
        "0",
        "-x",
        "0",
        "-y",
        "0",
      ],
    ],
  },
  before: { lvs1: { version: "v1", services: [] } },
};

describe("audit log", () => {
  it("is in WAL mode and an attempt is readable from a second connection before it finishes", () => {
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const id = recordAttempt(weightChange, db);

    // A second connection is what another process (or the console after a crash) would see.
    const other = new Database(file, { readonly: true });
    try {
      expect(other.pragma("journal_mode", { simple: true })).toBe("wal");
      const row = other.prepare("SELECT user, result, cluster_id FROM audit WHERE id = ?").get(id);
      expect(row).toEqual({ user: "alice", result: "pending", cluster_id: "prod" });
    } finally {
      other.close();
    }
  });

  it("keeps a pending attempt when the process dies without finishing it", () => {
    const id = recordAttempt(weightChange, db);
    // No close, no checkpoint: the row lives only in the -wal file, as after a crash.
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    const copy = path.join(dir, "after-crash.sqlite");
    fs.copyFileSync(file, copy);
    fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
    const reopened = openDb(copy);
    try {
      const { entries } = listAudit({}, reopened);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ id, result: "pending", finishedAt: null, user: "alice" });
    } finally {
      reopened.close();
    }
  });

  it("finishes an attempt with the result, the state after and the error", () => {
    const id = recordAttempt(weightChange, db);
    finishAttempt(
      id,
      {
        result: "partial",
        after: { lvs1: { version: "v2", services: [] } },
        error: { code: "PARTIAL", message: "applied on lvs1, not on lvs2", details: {} },
        details: [{ directorId: "lvs2", exitCode: 255, stderr: "No such destination\n" }],
      },
      db,
    );
    const [entry] = listAudit({}, db).entries;
    expect(entry).toMatchObject({
      id,
      result: "partial",
      directors: ["lvs1", "lvs2"],
      change: { kind: "setWeight", weight: 0 },
      after: { lvs1: { version: "v2" } },
      error: { code: "PARTIAL" },
      details: [{ directorId: "lvs2", exitCode: 255 }],
    });
    expect(entry?.argv.lvs1?.[0]).toContain("-m");
    expect(entry?.finishedAt).toBeGreaterThanOrEqual(entry?.startedAt ?? Infinity);
  });

  it("filters by user, cluster, director, result and text, newest first, with a cursor", () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        recordAttempt(
          {
            ...weightChange,
            user: i % 2 ? "bob" : "alice",
            clusterId: i < 3 ? "prod" : "lab",
            directors: i < 3 ? ["lvs1"] : ["lab"],
            summary: `change ${i}${i === 4 ? " 100%_sure" : ""}`,
          },
          db,
        ),
      );
    }
    finishAttempt(ids[1] ?? 0, { result: "conflict" }, db);

    expect(listAudit({ user: "bob" }, db).entries.map((e) => e.id)).toEqual([ids[3], ids[1]]);
    expect(listAudit({ clusterId: "lab" }, db).entries.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(listAudit({ directorId: "lvs1" }, db).entries).toHaveLength(3);
    expect(listAudit({ result: "conflict" }, db).entries.map((e) => e.id)).toEqual([ids[1]]);
    // LIKE wildcards in the search text are taken literally.
    expect(listAudit({ text: "0%_s" }, db).entries.map((e) => e.id)).toEqual([ids[4]]);
    expect(listAudit({ text: "%" }, db).entries.map((e) => e.id)).toEqual([ids[4]]);

    const first = listAudit({ limit: 2 }, db);
    expect(first.entries.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(first.nextCursor).toBe(ids[3]);
    const second = listAudit({ limit: 2, before: first.nextCursor ?? 0 }, db);
    expect(second.entries.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const last = listAudit({ limit: 2, before: second.nextCursor ?? 0 }, db);
    expect(last.entries.map((e) => e.id)).toEqual([ids[0]]);
    expect(last.nextCursor).toBeNull();
  });
});

describe("the schema", () => {
  it("migrates a database of schema 6 with its pending attempts and the drains that reference them", () => {
    db.close();
    const old = path.join(dir, "v6.sqlite");
    const raw = new Database(old);
    raw.pragma("foreign_keys = ON");
    migrations.slice(0, 6).forEach((sql) => raw.exec(sql));
    raw.pragma("user_version = 6");
    const pending = recordAttempt(weightChange, raw);
    raw
      .prepare(
        "INSERT INTO drains (cluster_id, address, port, started_at, updated_at, user, state, audit_id) VALUES ('prod', '10.10.0.11', NULL, 1, 1, 'alice', 'draining', ?)",
      )
      .run(pending);
    raw.close();

    db = openDb(old);
    expect(db.pragma("user_version", { simple: true })).toBe(migrations.length);
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(listAudit({}, db).entries.map((e) => [e.id, e.result])).toEqual([[pending, "pending"]]);
    expect(interruptPending(db).map((e) => e.id)).toEqual([pending]);
    expect(listAudit({ result: "interrupted" }, db).entries).toHaveLength(1);
    expect(db.prepare("SELECT audit_id FROM drains").all() as Array<{ audit_id: number }>).toEqual([
      { audit_id: pending },
    ]);
    db.prepare("UPDATE drains SET state = 'abandoned'").run();
    expect(() => db.prepare("UPDATE drains SET audit_id = 999").run()).toThrow(/FOREIGN KEY/);
  });
});
