import { inspect } from "node:util";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { configSchema } from "@/server/config/schema";
import { authConfigSchema, trustedProxiesOf, usersSchema } from "./users-schema";

const HASH = "scrypt$1024$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA==";

describe("users and auth in the config", () => {
  it("keeps password hashes out of JSON, superjson and logs", () => {
    const [user] = usersSchema.parse([{ name: "alice", role: "admin", passwordHash: HASH }]);
    expect(user?.passwordHash?.reveal()).toBe(HASH);
    for (const text of [
      JSON.stringify(user),
      superjson.stringify(user),
      inspect(user, { depth: 5 }),
      `${String(user?.passwordHash)}`,
    ]) {
      expect(text).not.toContain("c2FsdHNhbHRzYWx0");
    }
  });

  it("rejects bad hashes, roles, names and duplicates with a field path", () => {
    const issues = (input: unknown) =>
      usersSchema.safeParse(input).error?.issues.map((i) => i.path.join("."));
    expect(issues([{ name: "a", role: "admin", passwordHash: "plain-text" }])).toEqual([
      "0.passwordHash",
    ]);
    expect(issues([{ name: "a", role: "root" }])).toEqual(["0.role"]);
    expect(issues([{ name: "a b", role: "viewer" }])).toEqual(["0.name"]);
    expect(issues([{ name: "a", role: "viewer", extra: 1 }])).toEqual(["0"]);
    expect(
      issues([
        { name: "a", role: "viewer" },
        { name: "a", role: "admin" },
      ]),
    ).toEqual(["1.name"]);
  });

  it("lists trusted proxies for X-Forwarded-*, with those of the proxy header", () => {
    const auth = authConfigSchema.parse({
      trustedProxies: ["10.0.0.2"],
      proxyHeader: { header: "x-remote-user", trustedProxies: ["127.0.0.1", "10.0.0.2"] },
    });
    expect(trustedProxiesOf(auth)).toEqual(["10.0.0.2", "127.0.0.1"]);
    expect(authConfigSchema.safeParse({ trustedProxies: ["proxy.example"] }).success).toBe(false);
  });

  it("defaults to 30 idle minutes and 12 hours, and validates the proxy header", () => {
    expect(authConfigSchema.parse(undefined)).toEqual({
      idleMinutes: 30,
      absoluteHours: 12,
      trustedProxies: [],
    });
    expect(authConfigSchema.parse({ idleMinutes: 5 })).toEqual({
      idleMinutes: 5,
      absoluteHours: 12,
      trustedProxies: [],
    });
    expect(
      authConfigSchema.parse({
        proxyHeader: { header: "X-Remote-User", trustedProxies: ["127.0.0.1"] },
      }).proxyHeader,
    ).toEqual({ header: "x-remote-user", trustedProxies: ["127.0.0.1"] });
    expect(
      authConfigSchema.safeParse({ proxyHeader: { header: "x-remote-user", trustedProxies: [] } })
        .success,
    ).toBe(false);
    expect(authConfigSchema.safeParse({ idleMinutes: 0 }).success).toBe(false);
  });

  it("is part of the config file's schema", () => {
    const parsed = configSchema.parse({
      clusters: [{ id: "c", directors: [{ id: "d", host: "127.0.0.1", privateKeyPath: "/k" }] }],
      users: [{ name: "alice", role: "operator", passwordHash: HASH }],
      auth: { idleMinutes: 10 },
    });
    expect(parsed.users[0]?.role).toBe("operator");
    expect(parsed.auth.idleMinutes).toBe(10);
  });
});
