import type { NextConfig } from "next";
import { STATIC_SECURITY_HEADERS } from "./server/auth/csp";

const nextConfig: NextConfig = {
  // A self-contained server (server.js + the node_modules it needs) for the systemd unit;
  // scripts/package.sh adds the static assets and the user CLI (docs/deploy.md).
  output: "standalone",
  // Native modules and ssh2 (optional native crypto) must not be bundled.
  serverExternalPackages: ["ssh2", "better-sqlite3", "cpu-features"],
  poweredByHeader: false,
  reactStrictMode: true,
  // The Content-Security-Policy (with a per-request nonce) comes from proxy.ts.
  headers: () => Promise.resolve([{ source: "/:path*", headers: [...STATIC_SECURITY_HEADERS] }]),
};

export default nextConfig;
