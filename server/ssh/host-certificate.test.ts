/**
 * Host certificates made by OpenSSH 9.2's ssh-keygen (server/ssh/__fixtures__/host-certs,
 * see its README): CAs of each key type, and certificates `ssh` would refuse.
 */
import { describe, expect, it } from "vitest";
import { fingerprintOf } from "./fingerprint";
import { hostCertificateProblem, parseHostCertificate } from "./host-certificate";
import { blobOf, NOW } from "./host-certs.test-util";

function cert(name: string) {
  const c = parseHostCertificate(blobOf(name));
  if (!c) throw new Error(`${name} does not parse`);
  return c;
}

describe("host certificates", () => {
  it("parses what ssh-keygen -L shows", () => {
    const c = cert("ed25519-host-by-ed25519-ca-cert.pub");
    expect(c.certType).toBe("ssh-ed25519-cert-v01@openssh.com");
    expect(c.type).toBe(2);
    expect(c.keyId).toBe("director-a");
    expect(c.serial).toBe(0n);
    expect(c.principals).toEqual(["director-a.lab.example", "10.10.0.2"]);
    expect(c.validAfter).toBe(BigInt(Date.UTC(2026, 0, 1) / 1000));
    expect(c.validBefore).toBe(BigInt(Date.UTC(2036, 0, 1) / 1000));
    expect(c.criticalOptions).toEqual([]);
    expect(c.signatureAlgorithm).toBe("ssh-ed25519");
    // ssh-keygen -L: "Public key: ED25519-CERT SHA256:iovj…", "Signing CA: ED25519 SHA256:tV0E…"
    expect(fingerprintOf(c.publicKey)).toBe(fingerprintOf(blobOf("host_ed25519.pub")));
    expect(fingerprintOf(c.signatureKey)).toBe(
      "SHA256:tV0EkKjxiY5YBmxUTYigX/6mNVk/g/GL0HfhK3DVqJI",
    );
    expect(c.signatureKey.equals(blobOf("ca_ed25519.pub"))).toBe(true);
  });

  it.each([
    ["ed25519-host-by-ed25519-ca-cert.pub", "ca_ed25519.pub", "host_ed25519.pub"],
    ["ecdsa-host-by-ecdsa-ca-cert.pub", "ca_ecdsa.pub", "host_ecdsa.pub"],
    ["ed25519-host-by-ecdsa-ca-cert.pub", "ca_ecdsa.pub", "host_ed25519.pub"],
    ["rsa-host-by-rsa-ca-cert.pub", "ca_rsa.pub", "host_rsa.pub"],
  ])("accepts %s: signed by %s, for the host key %s", (file, ca, host) => {
    const c = cert(file);
    expect(c.signatureKey.equals(blobOf(ca))).toBe(true);
    expect(c.publicKey.equals(blobOf(host))).toBe(true);
    expect(hostCertificateProblem(c, "director-a.lab.example", NOW)).toBeNull();
  });

  it("refuses what ssh refuses", () => {
    const good = cert("ed25519-host-by-ed25519-ca-cert.pub");
    expect(hostCertificateProblem(good, "director-b.lab.example", NOW)).toMatch(/not director-b/);
    expect(hostCertificateProblem(good, "10.10.0.2", NOW)).toBeNull();
    expect(
      hostCertificateProblem(good, "director-a.lab.example", Date.UTC(2025, 0, 1) / 1000),
    ).toBe("it is not valid yet");
    expect(hostCertificateProblem(cert("expired-cert.pub"), "director-a.lab.example", NOW)).toBe(
      "it has expired",
    );
    expect(hostCertificateProblem(cert("user-cert.pub"), "director-a.lab.example", NOW)).toBe(
      "it is not a host certificate",
    );
    // No principals: valid for any host the CA line covers, as in OpenSSH.
    expect(
      hostCertificateProblem(cert("no-principals-cert.pub"), "anything.example", NOW),
    ).toBeNull();
  });

  it("refuses a certificate whose signed part or signature was altered", () => {
    const blob = blobOf("ed25519-host-by-ed25519-ca-cert.pub");
    const c = cert("ed25519-host-by-ed25519-ca-cert.pub");
    // Another principal in the signed part (same length, so it still parses).
    const i = blob.indexOf("director-a.lab.example");
    const forged = Buffer.from(blob);
    forged.write("director-b.lab.example", i);
    const parsed = parseHostCertificate(forged);
    expect(parsed?.principals[0]).toBe("director-b.lab.example");
    expect(parsed && hostCertificateProblem(parsed, "director-b.lab.example", NOW)).toBe(
      "its CA signature does not verify",
    );
    const badSig = { ...c, signature: Buffer.from(c.signature).fill(0, 0, 8) };
    expect(hostCertificateProblem(badSig, "director-a.lab.example", NOW)).toBe(
      "its CA signature does not verify",
    );
  });

  it("returns null for what is not a certificate", () => {
    expect(parseHostCertificate(blobOf("host_ed25519.pub"))).toBeNull();
    const blob = blobOf("ed25519-host-by-ed25519-ca-cert.pub");
    expect(parseHostCertificate(blob.subarray(0, blob.length - 10))).toBeNull();
    expect(parseHostCertificate(Buffer.concat([blob, Buffer.from([0])]))).toBeNull();
    expect(parseHostCertificate(Buffer.alloc(3))).toBeNull();
  });
});
