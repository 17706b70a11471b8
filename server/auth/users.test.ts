import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyPassword } from "./password";
import {
  addUser,
  ensureDemoAdmin,
  listUsers,
  removeUser,
  setPassword,
  setRole,
  UserFileError,
} from "./users";

const FAST = { N: 1024, r: 8, p: 1 };
const ORIGINAL = `# LVS Console config
pollIntervalMs: 2000 # poll often
clusters:
  - id: web # the public web tier
    directors:
      - { id: lab, host: 127.0.0.1, port: 2222, privateKeyPath: /k }
users: []
`;
let file: string;

beforeEach(() => {
  file = join(mkdtempSync(join(tmpdir(), "lvs-users-")), "lvs-console.yaml");
  writeFileSync(file, ORIGINAL, { mode: 0o644 });
});

describe("user file editing", () => {
  it("adds users while keeping comments and the rest of the file, and makes the file private", async () => {
    await addUser(file, { name: "alice", role: "operator", password: "alice-password" }, FAST);
    await addUser(file, { name: "root@corp", role: "admin", password: "admin-password" }, FAST);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# LVS Console config");
    expect(text).toContain("pollIntervalMs: 2000 # poll often");
    expect(text).toContain("- id: web # the public web tier");
    expect(text).toContain("{ id: lab, host: 127.0.0.1, port: 2222, privateKeyPath: /k }");
    expect(text).not.toContain("alice-password");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(listUsers(file)).toEqual([
      { name: "alice", role: "operator", hasPassword: true },
      { name: "root@corp", role: "admin", hasPassword: true },
    ]);
    const hash = /passwordHash: (\S+)/.exec(text)?.[1] ?? "";
    expect(await verifyPassword("alice-password", hash)).toBe(true);
  });

  it("changes passwords and roles, removes users, and refuses bad input", async () => {
    await addUser(file, { name: "alice", role: "operator", password: "alice-password" }, FAST);
    await expect(
      addUser(file, { name: "alice", role: "viewer", password: "another-one" }, FAST),
    ).rejects.toThrow(/exists/);
    await expect(
      addUser(file, { name: "bob", role: "viewer", password: "short" }, FAST),
    ).rejects.toThrow(UserFileError);
    await expect(
      addUser(file, { name: "$(touch /tmp/x)", role: "viewer", password: "long-enough-pw" }, FAST),
    ).rejects.toThrow(/bad user name/);
    await setPassword(file, "alice", "a-new-password", FAST);
    const hash = /passwordHash: (\S+)/.exec(readFileSync(file, "utf8"))?.[1] ?? "";
    expect(await verifyPassword("a-new-password", hash)).toBe(true);
    setRole(file, "alice", "admin");
    expect(listUsers(file)[0]?.role).toBe("admin");
    removeUser(file, "alice");
    expect(listUsers(file)).toEqual([]);
    expect(() => removeUser(file, "alice")).toThrow(/no user/);
    expect(readFileSync(file, "utf8")).toContain("# poll often");
  });

  it("ensureDemoAdmin adds one admin with a generated password, once", async () => {
    const created = await ensureDemoAdmin(file);
    expect(created?.name).toBe("admin");
    expect(created?.password).toMatch(/^\S{24}$/);
    expect(listUsers(file)).toEqual([{ name: "admin", role: "admin", hasPassword: true }]);
    expect(await ensureDemoAdmin(file)).toBeNull();
  });
});
