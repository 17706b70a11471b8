/**
 * Writes the demo's config and makes sure it has an admin who can sign in. The cluster is
 * the HA lab's pair (.lab/run/NAME/cluster.yaml, written by `lab.sh up --ha`) when NAME is
 * an HA lab, otherwise the single lab director as a one-director cluster.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { ensureDemoAdmin } from "@/server/auth/users";
import { clusterSchema } from "@/server/config/schema";

interface LabDirector {
  id: string;
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  hostKeyFingerprint: string;
}

function labCluster(labName: string): unknown {
  const haFile = `.lab/run/${labName}/cluster.yaml`;
  if (existsSync(haFile)) {
    const doc: unknown = parse(readFileSync(haFile, "utf8"));
    const clusters =
      typeof doc === "object" && doc !== null ? (doc as { clusters?: unknown }).clusters : [];
    const cluster: unknown = Array.isArray(clusters) ? clusters[0] : undefined;
    const checked = clusterSchema.safeParse(cluster);
    if (!checked.success)
      throw new Error(`${haFile}: not a clusters: item: ${checked.error.message}`);
    return cluster;
  }
  const lab = JSON.parse(readFileSync(`.lab/run/${labName}/director.json`, "utf8")) as LabDirector;
  const director = {
    id: lab.id,
    host: lab.host,
    port: lab.port,
    user: lab.user,
    privateKeyPath: lab.privateKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
  };
  return { id: "lab", name: "Lab director", directors: [director] };
}

async function main(): Promise<void> {
  const [configPath, dataDir, labName = "lab"] = process.argv.slice(2);
  if (!configPath || !dataDir) throw new Error("usage: demo-config.ts CONFIG DATA_DIR [LAB_NAME]");
  mkdirSync(dirname(configPath), { recursive: true });
  // Written afresh each run: the lab's port or key may differ, and the admin gets a new
  // password that is printed below (only its hash is stored).
  const config = {
    pollIntervalMs: 2000,
    dataDir: resolve(dataDir),
    clusters: [labCluster(labName)],
    users: [],
  };
  writeFileSync(configPath, stringify(config), { mode: 0o600 });

  const admin = await ensureDemoAdmin(configPath);
  process.stdout.write(
    admin ? `Login:  ${admin.name} / ${admin.password}` : "Login:  use an admin from the config",
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
