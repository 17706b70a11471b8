#!/usr/bin/env bash
# Assembles the installable console in dist/lvs-console (see docs/deploy.md):
#   server.js + node_modules   Next.js's standalone output (only what the server needs)
#   .next/static, public       the browser assets, which standalone leaves out
#   bin/lvs-console-user.mjs   the user CLI as one plain Node ESM file (no tsx, no node_modules)
#   deploy/, docs/             the systemd unit, the Grafana dashboard, their docs
# Usage: bash scripts/package.sh [--no-build]   (--no-build: reuse an existing .next)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" != "--no-build" ]]; then
  NEXT_TELEMETRY_DISABLED=1 node node_modules/next/dist/bin/next build
fi
[[ -f .next/standalone/server.js ]] || {
  echo "package: .next/standalone/server.js is missing (output: \"standalone\" in next.config.ts?)" >&2
  exit 1
}

out=dist/lvs-console
rm -rf "$out"
mkdir -p dist
cp -a .next/standalone "$out"
# The standalone copy mirrors the project folder: drop anything local that is no part of it.
# (server/config/*.ts is traced because the config is read from a run-time path; the
# compiled code in .next/server is what runs.)
rm -rf "$out/.data" "$out/.lab" "$out/lvs-console.yaml" "$out/.env" "$out"/.env.* "$out/server"
mkdir -p "$out/.next" "$out/bin" "$out/deploy"
cp -a .next/static "$out/.next/static"
if [[ -d public ]]; then cp -a public "$out/public"; fi
node_modules/.bin/esbuild scripts/user.ts --bundle --platform=node --format=esm --target=node20 \
  --main-fields=module,main --log-level=warning --outfile="$out/bin/lvs-console-user.mjs" \
  "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"
cp deploy/lvs-console.service deploy/grafana-dashboard.json "$out/deploy/"
cp lvs-console.example.yaml "$out/"
mkdir -p "$out/docs"
cp docs/deploy.md docs/metrics.md "$out/docs/"

# The native modules must be there, built for this Node: the unit cannot compile anything.
for pkg in better-sqlite3 ssh2; do
  [[ -f "$out/node_modules/$pkg/package.json" ]] || {
    echo "package: $pkg is missing from the standalone output" >&2
    exit 1
  }
done
find "$out/node_modules/better-sqlite3" -name '*.node' | grep -q . || {
  echo "package: better-sqlite3 has no compiled .node file in the standalone output" >&2
  exit 1
}
echo "package: $out ($(du -sh "$out" | cut -f1)), built for Node $(node -p process.versions.node)"
