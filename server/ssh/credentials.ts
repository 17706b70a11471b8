/** How the console logs in: the key file or ssh-agent, checked before connecting. */
import { readFileSync } from "node:fs";
// utils only through the default import: Node's ESM loader cannot see it as a named export of ssh2 (CommonJS).
import ssh2, { type ConnectConfig } from "ssh2";
import type { JumpHostConfig } from "@/server/config";
import { authFailed, describeLogin, type Endpoint } from "./errors";

export function credentialOf(endpoint: Pick<JumpHostConfig, "privateKeyPath" | "agent">): string {
  return endpoint.agent
    ? "the keys of ssh-agent"
    : `the key ${endpoint.privateKeyPath ?? "(none)"}`;
}

export function authConfig(
  endpoint: Pick<JumpHostConfig, "privateKeyPath" | "agent" | "passphraseEnv">,
  directorId: string,
  at: Endpoint,
  role: "director" | "jumpHost",
): Partial<ConnectConfig> {
  const login = describeLogin(at, role, directorId);
  if (endpoint.agent) {
    const agent = process.env.SSH_AUTH_SOCK;
    if (!agent) {
      throw authFailed(
        directorId,
        at,
        role,
        "no-agent",
        `${login} logs in through ssh-agent, but SSH_AUTH_SOCK is not set`,
      );
    }
    return { agent };
  }
  if (endpoint.privateKeyPath === undefined) {
    throw authFailed(
      directorId,
      at,
      role,
      "no-credentials",
      `no private key or agent configured for ${login}`,
    );
  }
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(endpoint.privateKeyPath);
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : "error";
    throw authFailed(
      directorId,
      at,
      role,
      "key-unusable",
      `cannot read the private key ${endpoint.privateKeyPath} (${code})`,
    );
  }
  const passphrase =
    endpoint.passphraseEnv === undefined ? undefined : process.env[endpoint.passphraseEnv];
  const problem = keyProblem(
    privateKey,
    passphrase,
    endpoint.privateKeyPath,
    endpoint.passphraseEnv,
    login,
  );
  if (problem) throw authFailed(directorId, at, role, "key-unusable", problem);
  return passphrase === undefined ? { privateKey } : { privateKey, passphrase };
}

/**
 * Why a private key cannot be used, checked before connecting: ssh2 would only say
 * "Cannot parse privateKey: ... bad passphrase?", not which key or which variable. Names the
 * file and the variable, never the passphrase: this goes to the server log and to admins.
 */
function keyProblem(
  privateKey: Buffer,
  passphrase: string | undefined,
  path: string,
  passphraseEnv: string | undefined,
  login: string,
): string | null {
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (!(parsed instanceof Error)) return null;
  const unlocked = passphrase === undefined ? parsed : ssh2.utils.parseKey(privateKey);
  const encrypted = unlocked instanceof Error && /no passphrase given/i.test(unlocked.message);
  if (!encrypted) return `cannot use the private key ${path} (for ${login}): ${parsed.message}`;
  if (passphrase !== undefined)
    return `the passphrase in ${passphraseEnv ?? "passphraseEnv"} does not decrypt the private key ${path} (for ${login})`;
  if (passphraseEnv !== undefined) {
    return `the private key ${path} (for ${login}) is encrypted, and the environment variable ${passphraseEnv} holding its passphrase is not set`;
  }
  return `the private key ${path} (for ${login}) is encrypted: name the environment variable holding its passphrase in passphraseEnv`;
}
