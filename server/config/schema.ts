/**
 * The shape of lvs-console.yaml. Pure (no I/O) so tests and tools can validate a config
 * object without touching the disk; server/config/index.ts reads and checks the file.
 */
import { z } from "zod";
import { portSchema } from "@/server/ipvs/model";
import {
  authConfigSchema,
  Secret,
  usersSchema,
  type AuthConfig,
  type ConsoleUser,
} from "./users-schema";

const ID = /^[a-z0-9][a-z0-9-]*$/;
const idSchema = (what: string) =>
  z
    .string({ error: `a ${what} id is text of a-z, 0-9 and "-"` })
    .max(64, `a ${what} id is at most 64 characters`)
    .regex(ID, `a ${what} id is text of a-z, 0-9 and "-" (starting with a letter or digit)`);

const hostSchema = z
  .string({ error: "a host is a DNS name or an IP address" })
  .min(1, "a host is a DNS name or an IP address")
  .max(253, "a host is at most 253 characters")
  .regex(
    /^[A-Za-z0-9.:_-]+$/,
    "a host is a DNS name or an IP address (letters, digits, '.', ':', '-')",
  );

const userSchema = z
  .string({ error: "a user is a login name" })
  .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, "a user is a login name (a-z, 0-9, '_', '.', '-')");

const pathSchema = (what: string) =>
  z.string({ error: `${what} is a file path` }).min(1, `${what} is a file path`);

/** `SHA256:` and 43 characters of unpadded base64, exactly as `ssh-keygen -lf` prints it. */
export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
export const fingerprintSchema = z
  .string({ error: 'a host key fingerprint looks like "SHA256:" and 43 base64 characters' })
  .regex(
    FINGERPRINT,
    'a host key fingerprint looks like "SHA256:" and 43 base64 characters (ssh-keygen -lf)',
  );

const envNameSchema = z
  .string({ error: "passphraseEnv is the name of an environment variable" })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "passphraseEnv is the name of an environment variable");

/** Fields shared by a director and its jump host: where to connect and how to log in. */
const endpointFields = {
  host: hostSchema,
  port: portSchema.default(22),
  user: userSchema.default("root"),
  privateKeyPath: pathSchema("privateKeyPath").optional(),
  agent: z.boolean({ error: "agent is true or false" }).optional(),
  passphraseEnv: envNameSchema.optional(),
  hostKeyFingerprint: fingerprintSchema.optional(),
  knownHostsPath: pathSchema("knownHostsPath").optional(),
};

interface EndpointShape {
  privateKeyPath?: string | undefined;
  agent?: boolean | undefined;
  passphraseEnv?: string | undefined;
  hostKeyFingerprint?: string | undefined;
  knownHostsPath?: string | undefined;
}

function checkEndpoint(value: EndpointShape, ctx: z.RefinementCtx, requireHostKey: boolean): void {
  const hasKey = value.privateKeyPath !== undefined;
  const hasAgent = value.agent === true;
  if (hasKey === hasAgent) {
    ctx.addIssue({
      code: "custom",
      path: [hasKey ? "agent" : "privateKeyPath"],
      message: hasKey
        ? "give either privateKeyPath or agent: true, not both"
        : "give privateKeyPath (a private key file) or agent: true (uses SSH_AUTH_SOCK)",
    });
  }
  if (value.passphraseEnv !== undefined && !hasKey) {
    ctx.addIssue({
      code: "custom",
      path: ["passphraseEnv"],
      message:
        "passphraseEnv needs privateKeyPath: it names the variable holding that key's passphrase",
    });
  }
  if (value.hostKeyFingerprint !== undefined && value.knownHostsPath !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["knownHostsPath"],
      message: "give either hostKeyFingerprint or knownHostsPath, not both",
    });
  }
  if (
    requireHostKey &&
    value.hostKeyFingerprint === undefined &&
    value.knownHostsPath === undefined
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["hostKeyFingerprint"],
      message: "a jump host needs hostKeyFingerprint or knownHostsPath",
    });
  }
}

export const jumpHostSchema = z
  .strictObject(endpointFields, {
    error: "jumpHost is a mapping: { host, port, user, privateKeyPath | agent, ... }",
  })
  .superRefine((value, ctx) => checkEndpoint(value, ctx, true));

export const directorSchema = z
  .strictObject(
    {
      id: idSchema("director"),
      ...endpointFields,
      /** Every command runs as `sudo -n -- ...` (for a non-root login). */
      sudo: z.boolean({ error: "sudo is true or false" }).default(false),
      jumpHost: jumpHostSchema.optional(),
    },
    { error: "a director is a mapping: { id, host, port, user, ... }" },
  )
  .superRefine((value, ctx) => checkEndpoint(value, ctx, false));

export const clusterSchema = z.strictObject(
  {
    id: idSchema("cluster"),
    name: z.string({ error: "a cluster name is text" }).min(1).max(200).optional(),
    directors: z
      .array(directorSchema, { error: "directors is a list" })
      .min(1, "a cluster lists at least one director"),
  },
  { error: "a cluster is a mapping: { id, name, directors }" },
);

/** `/metrics` is served only with a token; Prometheus sends it as `Authorization: Bearer`. */
export const metricsConfigSchema = z.strictObject(
  {
    token: z
      .string({
        error: "metrics.token is text (at least 32 characters, e.g. openssl rand -hex 32)",
      })
      .min(32, "metrics.token is at least 32 characters (e.g. openssl rand -hex 32)")
      .max(512, "metrics.token is at most 512 characters")
      .regex(/^[\x21-\x7e]+$/, "metrics.token is printable ASCII without spaces")
      .transform((token) => new Secret(token)),
  },
  { error: "metrics is a mapping: { token }" },
);

/** A watched director's rules are read in full (thresholds, tunnel types) every Nth poll. */
export const DEFAULT_FULL_READ_EVERY = 15;

export const configSchema = z
  .strictObject(
    {
      pollIntervalMs: z
        .number({ error: "pollIntervalMs is a whole number of milliseconds from 250 to 600000" })
        .int("pollIntervalMs is a whole number of milliseconds from 250 to 600000")
        .min(250, "pollIntervalMs is a whole number of milliseconds from 250 to 600000")
        .max(600_000, "pollIntervalMs is a whole number of milliseconds from 250 to 600000")
        .default(2000),
      fullReadEvery: z
        .number({ error: "fullReadEvery is a whole number of polls from 1 to 1000" })
        .int("fullReadEvery is a whole number of polls from 1 to 1000")
        .min(1, "fullReadEvery is a whole number of polls from 1 to 1000")
        .max(1000, "fullReadEvery is a whole number of polls from 1 to 1000")
        .default(DEFAULT_FULL_READ_EVERY),
      dataDir: pathSchema("dataDir").default(".data"),
      clusters: z
        .array(clusterSchema, { error: "clusters is a list of clusters" })
        .min(1, "the file lists at least one cluster"),
      /** Console users (users-schema.ts). */
      users: usersSchema,
      auth: authConfigSchema,
      metrics: metricsConfigSchema.optional(),
    },
    { error: "the file is a YAML mapping with clusters: [...]" },
  )
  .superRefine((value, ctx) => {
    const clusterIds = new Set<string>();
    const directorIds = new Map<string, string>();
    value.clusters.forEach((cluster, ci) => {
      if (clusterIds.has(cluster.id)) {
        ctx.addIssue({
          code: "custom",
          path: ["clusters", ci, "id"],
          message: `cluster id "${cluster.id}" is used twice`,
        });
      }
      clusterIds.add(cluster.id);
      cluster.directors.forEach((director, di) => {
        const first = directorIds.get(director.id);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["clusters", ci, "directors", di, "id"],
            message: `director id "${director.id}" is already used at ${first}: ids are unique across the file`,
          });
        } else {
          directorIds.set(director.id, `clusters[${ci}].directors[${di}]`);
        }
      });
    });
  });

export type JumpHostConfig = z.output<typeof jumpHostSchema>;
type ParsedDirector = z.output<typeof directorSchema>;

/** A director as the rest of the server sees it: validated, paths absolute, with its cluster. */
export interface DirectorConfig extends ParsedDirector {
  clusterId: string;
}

export interface ClusterConfig {
  id: string;
  name: string;
  directors: DirectorConfig[];
}

export interface Config {
  /** The file this came from (absolute), or "<inline>". */
  file: string;
  pollIntervalMs: number;
  /** Every Nth poll is a full read (server/live/snapshot.ts); default DEFAULT_FULL_READ_EVERY. */
  fullReadEvery?: number;
  /** Absolute. */
  dataDir: string;
  clusters: ClusterConfig[];
  /** Password hashes are Secrets: they serialise as "[secret]". */
  users: ConsoleUser[];
  auth: AuthConfig;
  /** Absent: /metrics answers 404. The token is a Secret. */
  metrics?: { token: Secret } | undefined;
}
