#!/usr/bin/env bash
# The whole suite: type-check, lint, unit tests, integration tests against the lab
# director, then Playwright against a production build. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "type-check"; npx tsc --noEmit -p tsconfig.json
step "lint"; npx eslint --max-warnings=0 .
step "unit tests"; npx vitest run --project unit
step "integration tests (lab director over SSH)"; npx vitest run --project integration
step "production build"; npx next build
step "browser tests (Playwright, Debian chromium)"; npx playwright test
