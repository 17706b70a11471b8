/**
 * Writes the demo's config (the lab director as a one-director cluster) and makes sure it
 * has an admin who can sign in.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { stringify } from "yaml";
import { ensureDemoAdmin } from "@/server/auth/users";

interface LabDirector {
  id: string;
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  hostKeyFingerprint: string;
}

async function main(): Promise<void> {
  const [configPath, dataDir, labName = "lab"] = process.argv.slice(2);
  if (!configPath || !dataDir) throw new Error("usage: demo-config.ts CONFIG DATA_DIR [LAB_NAME]");
  const lab = JSON.parse(readFileSync(`.lab/run/${labName}/director.json`, "utf8")) as LabDirector;
  mkdirSync(dirname(configPath), { recursive: true });
  const director = {
    id: lab.id,
    host: lab.host,
    port: lab.port,
    user: lab.user,
    privateKeyPath: lab.privateKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
  };
  // Written afresh each run: the lab's port or key may differ, and the admin gets a new
  // password that is printed below (only its hash is stored).
  const config = {
    pollIntervalMs: 2000,
    dataDir: resolve(dataDir),
    clusters: [{ id: "lab", name: "Lab director", directors: [director] }],
    users: [],
    metrics: { token: randomBytes(32).toString("hex") },
  };
  writeFileSync(configPath, stringify(config), { mode: 0o600 });

  const admin = await ensureDemoAdmin(configPath);
  const port = process.env.PORT ?? "3000";
  process.stdout.write(
    [
      admin ? `Login:  ${admin.name} / ${admin.password}` : "Login:  use an admin from the config",
      `  Metrics: curl -H 'Authorization: Bearer ${config.metrics.token}' http://127.0.0.1:${port}/metrics`,
    ].join("\n"),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
