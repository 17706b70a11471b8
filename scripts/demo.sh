#!/usr/bin/env bash
# npm run demo: from a fresh Debian 12 machine to the console running against a real lab
# director. Installs what is missing, boots the lab if it is not running, writes a demo
# config, creates an admin with a generated password, builds and starts the console.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-3000}
LAB_NAME=${LVS_LAB_NAME:-lab}
LAB_PORT=${LVS_LAB_PORT:-2222}
DEMO_DIR=.data/demo
export LVS_CONSOLE_CONFIG=${LVS_CONSOLE_CONFIG:-$DEMO_DIR/lvs-console.yaml}

bash scripts/install-system-packages.sh
[ -d node_modules/next ] || npm ci --no-audit --no-fund

if ! bash lab/lab.sh status --name "$LAB_NAME" >/dev/null 2>&1; then
  bash lab/lab.sh up --name "$LAB_NAME" --port "$LAB_PORT"
fi

# Prints the sign-in line when it creates (or resets) the demo admin.
login=$(npx tsx --conditions=react-server scripts/demo-config.ts "$LVS_CONSOLE_CONFIG" "$DEMO_DIR" "$LAB_NAME")

if [ ! -f .next/BUILD_ID ] || [ -n "$(find app components server next.config.ts -newer .next/BUILD_ID -print -quit)" ]; then
  npx next build
fi

cat <<MSG

  LVS Console is starting against the lab director (.lab/run/${LAB_NAME}).
  URL:    http://127.0.0.1:${PORT}/
  ${login}
  Config: ${LVS_CONSOLE_CONFIG}
  Stop with Ctrl-C; stop the lab with: npm run lab -- down --name ${LAB_NAME}

MSG
exec npx next start -H 127.0.0.1 -p "$PORT"
