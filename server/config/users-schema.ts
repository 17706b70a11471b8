/**
 * The `users:` and `auth:` sections of lvs-console.yaml. Pure (no I/O, no server-only) so
 * the config schema, scripts/user.ts and tests share it.
 */
import { inspect } from "node:util";
import { z } from "zod";
import { isPasswordHash } from "./password-hash";

export const ROLES = ["viewer", "operator", "admin"] as const;
export const roleSchema = z.enum(ROLES, { error: "a role is viewer, operator or admin" });
export type Role = z.infer<typeof roleSchema>;

/**
 * A value that must not reach a browser or a log: it serialises (JSON, superjson, util.inspect)
 * as "[secret]" and gives up its content only through reveal().
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return "[secret]";
  }
  toString(): string {
    return "[secret]";
  }
  [inspect.custom](): string {
    return "[secret]";
  }
}

export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;
export const userNameSchema = z
  .string({ error: "a user name is text" })
  .regex(USER_NAME, "a user name is 1 to 64 of A-Z, a-z, 0-9, '_', '.', '@', '-'");

export const consoleUserSchema = z.strictObject(
  {
    name: userNameSchema,
    role: roleSchema,
    /** Absent for users who only sign in through the reverse proxy. */
    passwordHash: z
      .string({ error: "passwordHash is text" })
      .refine(
        isPasswordHash,
        'passwordHash looks like "scrypt$N$r$p$salt$hash" (npm run user -- add NAME)',
      )
      .transform((hash) => new Secret(hash))
      .optional(),
  },
  { error: "a user is a mapping: { name, role, passwordHash }" },
);
export type ConsoleUser = z.output<typeof consoleUserSchema>;

export const usersSchema = z
  .array(consoleUserSchema, { error: "users is a list" })
  .default([])
  .superRefine((users, ctx) => {
    const seen = new Set<string>();
    users.forEach((user, i) => {
      if (seen.has(user.name)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "name"],
          message: `user "${user.name}" is listed twice`,
        });
      }
      seen.add(user.name);
    });
  });

const IP = /^[0-9A-Fa-f:.]+$/;
const trustedProxyAddress = z.string().regex(IP, "a trusted proxy is an IP address");

export const proxyHeaderSchema = z.strictObject(
  {
    /** The request header carrying the user name, e.g. x-remote-user. */
    header: z
      .string({ error: "header is a header name" })
      .regex(/^[A-Za-z0-9-]{1,64}$/, "header is a header name such as x-remote-user")
      .transform((h) => h.toLowerCase()),
    /** Peer addresses of the reverse proxy: the header is ignored from anyone else. */
    trustedProxies: z
      .array(trustedProxyAddress, { error: "trustedProxies is a list" })
      .min(1, "trustedProxies lists at least one address"),
    /** Role of a proxy-authenticated user not in `users`; absent means such users are refused. */
    defaultRole: roleSchema.optional(),
  },
  { error: "proxyHeader is a mapping: { header, trustedProxies, defaultRole }" },
);

export const authConfigSchema = z
  .strictObject(
    {
      idleMinutes: z
        .number({ error: "idleMinutes is a whole number from 1 to 1440" })
        .int()
        .min(1)
        .max(1440)
        .default(30),
      absoluteHours: z
        .number({ error: "absoluteHours is a whole number from 1 to 720" })
        .int()
        .min(1)
        .max(720)
        .default(12),
      /**
       * Peer addresses of reverse proxies whose X-Forwarded-For (the client's address for
       * sign-in limits and the audit) and X-Forwarded-Proto (TLS, for the cookie) are believed.
       * proxyHeader.trustedProxies are trusted for these too.
       */
      trustedProxies: z
        .array(trustedProxyAddress, { error: "trustedProxies is a list" })
        .default([]),
      proxyHeader: proxyHeaderSchema.optional(),
    },
    { error: "auth is a mapping: { idleMinutes, absoluteHours, trustedProxies, proxyHeader }" },
  )
  .default({ idleMinutes: 30, absoluteHours: 12, trustedProxies: [] });

/** Every address trusted to speak for the client (X-Forwarded-For, X-Forwarded-Proto). */
export function trustedProxiesOf(auth: AuthConfig): string[] {
  return [...new Set([...auth.trustedProxies, ...(auth.proxyHeader?.trustedProxies ?? [])])];
}
export type AuthConfig = z.output<typeof authConfigSchema>;
