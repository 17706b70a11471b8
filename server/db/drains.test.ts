import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "./index";
import { recordAttempt } from "./audit";
import {
  createDrain,
  findActiveDrain,
  getDrain,
  listDrains,
  observeDrainProgress,
  setDrainState,
} from "./drains";

let dir: string;
let file: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvs-drains-"));
  file = path.join(dir, "console.sqlite");
  db = openDb(file);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const web = { kind: "tcp", address: "203.0.113.10", port: 80 } as const;
const alt = { kind: "tcp", address: "203.0.113.10", port: 8080 } as const;
const fwm = { kind: "fwm", mark: 1, family: "inet" } as const;

function drainRs1() {
  return createDrain(
    {
      clusterId: "prod",
      realserver: { address: "10.10.0.11", port: 80 },
      user: "alice",
      original: [
        { directorId: "lvs1", service: web, port: 80, weight: 1 },
        { directorId: "lvs1", service: alt, port: 80, weight: 3 },
        { directorId: "lvs1", service: fwm, port: 80, weight: 1 },
        { directorId: "lvs2", service: web, port: 80, weight: 5 },
      ],
    },
    db,
  );
}

describe("drain bookkeeping", () => {
  it("keeps the original weight per director and service, and survives reopening the file", () => {
    const drain = drainRs1();
    expect(drain.state).toBe("draining");
    db.close();
    db = openDb(file);
    const again = getDrain(drain.id, db);
    expect(again?.original).toEqual([
      { directorId: "lvs1", service: web, port: 80, weight: 1 },
      { directorId: "lvs1", service: alt, port: 80, weight: 3 },
      { directorId: "lvs1", service: fwm, port: 80, weight: 1 },
      { directorId: "lvs2", service: web, port: 80, weight: 5 },
    ]);
    expect(again?.realserver).toEqual({ address: "10.10.0.11", port: 80 });
  });

  it("finds the active drain covering a realserver, by address and port", () => {
    const drain = drainRs1();
    expect(findActiveDrain("prod", { address: "10.10.0.11", port: 80 }, db)?.id).toBe(drain.id);
    expect(findActiveDrain("prod", { address: "10.10.0.11", port: null }, db)?.id).toBe(drain.id);
    expect(findActiveDrain("prod", { address: "10.10.0.11", port: 53 }, db)).toBeNull();
    expect(findActiveDrain("prod", { address: "10.10.0.12", port: 80 }, db)).toBeNull();
    expect(findActiveDrain("other", { address: "10.10.0.11", port: 80 }, db)).toBeNull();
  });

  it("moves between draining and drained from the counters, but never out of a finished state", () => {
    const drain = drainRs1();
    observeDrainProgress(drain.id, true, db);
    expect(getDrain(drain.id, db)?.state).toBe("drained");
    observeDrainProgress(drain.id, false, db);
    expect(getDrain(drain.id, db)?.state).toBe("draining");

    const auditId = recordAttempt(
      {
        user: "alice",
        action: "drain.undrain",
        clusterId: "prod",
        directors: ["lvs1"],
        summary: "undrain",
        change: {},
      },
      db,
    );
    setDrainState(drain.id, "undrained", { auditId }, db);
    observeDrainProgress(drain.id, true, db);
    expect(getDrain(drain.id, db)).toMatchObject({ state: "undrained", auditId });
    expect(findActiveDrain("prod", { address: "10.10.0.11", port: 80 }, db)).toBeNull();
  });

  it("lists drains by cluster and activity, newest first", () => {
    const first = drainRs1();
    setDrainState(first.id, "removed", {}, db);
    const second = drainRs1();
    const other = createDrain(
      {
        clusterId: "lab",
        realserver: { address: "10.10.0.12", port: null },
        user: "bob",
        original: [],
      },
      db,
    );
    expect(listDrains({}, db).map((d) => d.id)).toEqual([other.id, second.id, first.id]);
    expect(listDrains({ clusterId: "prod", active: true }, db).map((d) => d.id)).toEqual([
      second.id,
    ]);
    expect(listDrains({ active: false }, db).map((d) => d.id)).toEqual([first.id]);
    expect(getDrain(other.id, db)?.realserver).toEqual({ address: "10.10.0.12", port: null });
  });
});
