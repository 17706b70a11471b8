/** Turns a lab's director.json into the DirectorConfig the console uses for a director. */
import { inject } from "vitest";
import type { DirectorConfig, JumpHostConfig } from "@/server/config";
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

/**
 * The lab as its own jump host: a director at 127.0.0.1:PORT "behind" it is a port inside the
 * guest (22 is the lab's own sshd), reached over the jump host's direct-tcpip channel.
 */
export function labAsJumpHost(
  lab: LabDirector,
  overrides: Partial<JumpHostConfig> = {},
): JumpHostConfig {
  return {
    host: lab.host,
    port: lab.port,
    user: lab.user,
    privateKeyPath: lab.privateKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
    ...overrides,
  };
}
