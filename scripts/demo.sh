#!/usr/bin/env bash
# npm run demo: from a fresh Debian 12 machine to the console running against a real lab.
# By default that is the HA lab (lab.sh up --ha): a keepalived pair NAME-a / NAME-b with
# steady client traffic, so rates move and failover can be watched. LVS_DEMO_LAB=single
# runs it against the single lab director instead (as the tests use it).
# Installs what is missing, boots the lab if it is not running, writes a demo config,
# creates an admin with a generated password, builds and starts the console.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-3000}
DEMO_LAB=${LVS_DEMO_LAB:-ha}
case $DEMO_LAB in
ha)
  LAB_NAME=${LVS_HA_LAB_NAME:-ha}
  LAB_PORT=${LVS_HA_LAB_PORT:-2230}
  TRAFFIC_ON=$LAB_NAME-net
  ;;
single)
  LAB_NAME=${LVS_LAB_NAME:-lab}
  LAB_PORT=${LVS_LAB_PORT:-2222}
  TRAFFIC_ON=$LAB_NAME
  ;;
*) echo "error: LVS_DEMO_LAB is ha (default) or single, not '$DEMO_LAB'" >&2; exit 2 ;;
esac
DEMO_DIR=.data/demo
export LVS_CONSOLE_CONFIG=${LVS_CONSOLE_CONFIG:-$DEMO_DIR/lvs-console.yaml}

bash scripts/install-system-packages.sh
[ -d node_modules/next ] || npm ci --no-audit --no-fund

if ! bash lab/lab.sh status --name "$LAB_NAME" >/dev/null 2>&1; then
  if [ "$DEMO_LAB" = ha ]; then
    bash lab/lab.sh up --ha --name "$LAB_NAME" --port "$LAB_PORT"
  else
    bash lab/lab.sh up --name "$LAB_NAME" --port "$LAB_PORT"
  fi
fi

# Prints the sign-in line when it creates (or resets) the demo admin.
login=$(npx tsx --conditions=react-server scripts/demo-config.ts "$LVS_CONSOLE_CONFIG" "$DEMO_DIR" "$LAB_NAME")

if [ ! -f .next/BUILD_ID ] || [ -n "$(find app components server next.config.ts -newer .next/BUILD_ID -print -quit)" ]; then
  npx next build
fi

# Modest steady traffic on every kind of service (about 9 requests/s in all) and a few held
# connections, until the demo stops.
traffic() { bash lab/lab.sh ssh --name "$TRAFFIC_ON" -- "$@" >/dev/null; }
traffic 'lab-traffic stop
  lab-traffic steady --vip 203.0.113.10:8080 --rate 4 --seconds 0 --all-clients
  lab-traffic steady --vip 203.0.113.10:80 --rate 2 --seconds 0 --all-clients
  lab-traffic steady --vip 203.0.113.12:80 --rate 1 --seconds 0 --all-clients
  lab-traffic steady --udp --vip 203.0.113.10:53 --rate 1 --seconds 0 --all-clients
  lab-traffic hold --vip 203.0.113.10:80 --count 4 --seconds 3600'
if [ "$DEMO_LAB" = ha ]; then
  traffic 'lab-traffic steady --vip 203.0.113.11:9090 --rate 1 --seconds 0 --all-clients'
fi
trap 'traffic "lab-traffic stop" || true' EXIT

if [ "$DEMO_LAB" = ha ]; then
  about="the HA lab '${LAB_NAME}' (keepalived pair ${LAB_NAME}-a MASTER, ${LAB_NAME}-b BACKUP)"
  try="  Fail over: npm run lab -- ssh --name ${LAB_NAME}-a -- lab-keepalived stop   (start to fail back)
  Traffic:   npm run lab -- ssh --name ${LAB_NAME}-net -- lab-traffic jobs"
else
  about="the lab director (.lab/run/${LAB_NAME})"
  try="  Traffic:   npm run lab -- ssh --name ${LAB_NAME} -- lab-traffic jobs"
fi
cat <<MSG

  LVS Console is starting against ${about}, with steady client traffic.
  URL:    http://127.0.0.1:${PORT}/
  ${login}
  Config: ${LVS_CONSOLE_CONFIG}
${try}
  Stop with Ctrl-C; stop the lab with: npm run lab -- down --name ${LAB_NAME}

MSG
npx next start -H 127.0.0.1 -p "$PORT"
