/**
 * Editing the `users:` list of lvs-console.yaml in place (scripts/user.ts, the demo). The
 * YAML Document API keeps the operator's comments, ordering and the rest of the file; the
 * file is replaced atomically and kept private (it holds password hashes).
 * No server-only import: this runs under tsx outside Next.
 */
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { isMap, isSeq, parseDocument, YAMLSeq, type Document } from "yaml";
import type { ScryptParams } from "@/server/config/password-hash";
import { generatePassword, hashPassword } from "./password";
import { roleSchema, USER_NAME, usersSchema, type Role } from "@/server/config/users-schema";

export class UserFileError extends Error {
  override readonly name = "UserFileError";
}

export const MIN_PASSWORD_LENGTH = 10;

export interface UserSummary {
  name: string;
  role: Role;
  hasPassword: boolean;
}

function readDocument(file: string): Document {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const doc: Document = parseDocument(text.trim() === "" ? "{}" : text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UserFileError(
      `${file}: ${doc.errors.map((e) => e.message.split("\n")[0]).join("; ")}`,
    );
  }
  if (!isMap(doc.contents)) throw new UserFileError(`${file}: the file is not a YAML mapping`);
  if (text.trim() === "") doc.contents.flow = false;
  return doc;
}

function usersOf(doc: Document, file: string): YAMLSeq {
  const users = doc.get("users", true);
  if (users === undefined || users === null) {
    const seq = new YAMLSeq();
    doc.set("users", seq);
    return seq;
  }
  if (!isSeq(users)) throw new UserFileError(`${file}: users is not a list`);
  // `users: []` is flow style; block style reads better once it has entries.
  users.flow = false;
  return users;
}

function indexOf(seq: YAMLSeq, name: string): number {
  return seq.items.findIndex((item) => isMap(item) && item.get("name") === name);
}

function writeDocument(doc: Document, file: string): void {
  // Refuse to write a users list the console would reject at start.
  const check = usersSchema.safeParse((doc.toJS() as { users?: unknown }).users ?? []);
  if (!check.success)
    throw new UserFileError(`${file}: users: ${check.error.issues[0]?.message ?? "invalid"}`);
  // Keep the owner's and group's access (the console may read it through its group), never others'.
  const mode = ((existsSync(file) ? statSync(file).mode : 0o600) & 0o770) | 0o600;
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, doc.toString(), { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export function checkUserName(name: string): void {
  if (!USER_NAME.test(name))
    throw new UserFileError(
      `bad user name "${name}": 1 to 64 of A-Z, a-z, 0-9, '_', '.', '@', '-'`,
    );
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UserFileError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

export function parseRole(role: string): Role {
  const parsed = roleSchema.safeParse(role);
  if (!parsed.success) throw new UserFileError(`bad role "${role}": viewer, operator or admin`);
  return parsed.data;
}

export function listUsers(file: string): UserSummary[] {
  const doc = readDocument(file);
  const parsed = usersSchema.safeParse((doc.toJS() as { users?: unknown }).users ?? []);
  if (!parsed.success)
    throw new UserFileError(`${file}: users: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data.map((u) => ({
    name: u.name,
    role: u.role,
    hasPassword: u.passwordHash !== undefined,
  }));
}

export async function addUser(
  file: string,
  user: { name: string; role: Role; password: string },
  params?: ScryptParams,
): Promise<void> {
  checkUserName(user.name);
  checkPassword(user.password);
  const doc = readDocument(file);
  const users = usersOf(doc, file);
  if (indexOf(users, user.name) >= 0)
    throw new UserFileError(`user "${user.name}" already exists (use passwd)`);
  const entry = doc.createNode({
    name: user.name,
    role: user.role,
    passwordHash: await hashPassword(user.password, params),
  });
  users.add(entry);
  writeDocument(doc, file);
}

export async function setPassword(
  file: string,
  name: string,
  password: string,
  params?: ScryptParams,
): Promise<void> {
  checkPassword(password);
  const doc = readDocument(file);
  const users = usersOf(doc, file);
  const i = indexOf(users, name);
  if (i < 0) throw new UserFileError(`no user "${name}"`);
  doc.setIn(["users", i, "passwordHash"], await hashPassword(password, params));
  writeDocument(doc, file);
}

export function setRole(file: string, name: string, role: Role): void {
  const doc = readDocument(file);
  const i = indexOf(usersOf(doc, file), name);
  if (i < 0) throw new UserFileError(`no user "${name}"`);
  doc.setIn(["users", i, "role"], role);
  writeDocument(doc, file);
}

export function removeUser(file: string, name: string): void {
  const doc = readDocument(file);
  const i = indexOf(usersOf(doc, file), name);
  if (i < 0) throw new UserFileError(`no user "${name}"`);
  doc.deleteIn(["users", i]);
  writeDocument(doc, file);
}

/**
 * For the demo: when the config has no admin who can sign in with a password, adds one
 * named "admin" (or "admin-2", ... if that name is taken) with a generated password and
 * returns it; null when such an admin already exists.
 */
export async function ensureDemoAdmin(
  configPath: string,
): Promise<{ name: string; password: string } | null> {
  const users = listUsers(configPath);
  if (users.some((u) => u.role === "admin" && u.hasPassword)) return null;
  let name = "admin";
  for (let n = 2; users.some((u) => u.name === name); n++) name = `admin-${n}`;
  const password = generatePassword();
  await addUser(configPath, { name, role: "admin", password });
  return { name, password };
}
