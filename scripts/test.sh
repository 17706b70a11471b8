#!/usr/bin/env bash
# The whole suite: type-check, lint, unit tests, a production build, integration tests
# against the lab director (over real SSH and HTTP), then Playwright against that build.
# Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "type-check"; npx tsc --noEmit -p tsconfig.json
step "lint"; npx eslint --max-warnings=0 .; npx prettier --check . >/dev/null
step "unit tests"; npx vitest run --project unit
step "production build"; npx next build
step "integration tests (lab director over SSH)"; npx vitest run --project integration
# The build above is the one Playwright serves.
step "browser tests (Playwright, Debian chromium)"; E2E_SKIP_BUILD=1 npx playwright test
