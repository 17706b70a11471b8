/**
 * For unit tests of changes and drains: a fresh SQLite file per test and a FakeCluster
 * ("prod": lvs1, lvs2) installed as the directors' io, removed again after each test.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { closeDb } from "@/server/db";
import { setDirectorIo } from "@/server/directors/io";
import { FakeCluster } from "./fake-director";

export function fakeClusterWithDb(prefix: string): () => FakeCluster {
  let dir = "";
  let cluster: FakeCluster | null = null;
  let restore: () => void = () => undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    closeDb();
    delete process.env.LVS_CONSOLE_DB;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    closeDb();
    process.env.LVS_CONSOLE_DB = path.join(
      dir,
      `console-${Math.random().toString(36).slice(2)}.sqlite`,
    );
    cluster = new FakeCluster("prod", ["lvs1", "lvs2"]);
    restore = setDirectorIo(cluster);
  });
  afterEach(() => restore());
  return () => {
    if (!cluster) throw new Error("the fake cluster exists only inside a test");
    return cluster;
  };
}
