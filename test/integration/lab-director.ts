/** Turns a lab's director.json into the DirectorConfig the console uses for a director. */
import { inject } from "vitest";
import type { DirectorConfig } from "@/server/config";
import { readLabDirector, type LabDirector } from "../../lab/harness";

/** The lab this run uses (see global-setup.ts). */
export function labName(): string {
  return inject("labName");
}

export function directorConfigOf(
  lab: LabDirector,
  overrides: Partial<DirectorConfig> = {},
): DirectorConfig {
  return {
    id: lab.id,
    clusterId: "lab",
    host: lab.host,
    port: lab.port,
    user: lab.user,
    privateKeyPath: lab.privateKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
    sudo: false,
    ...overrides,
  };
}

/** The lab director as configured in lvs-console.yaml: root, key file, pinned host key. */
export async function labDirector(
  overrides: Partial<DirectorConfig> = {},
): Promise<DirectorConfig> {
  return directorConfigOf(await readLabDirector(labName()), overrides);
}
