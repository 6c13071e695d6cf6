#!/usr/bin/env bash
# Start a throw-away redis + xo-server on loopback for recording the real
# REST API (see README.md). State and logs live under $XO_REAL.
#   start.sh            start, then wait until admin Basic auth answers 200
#   start.sh --no-wait  start and return at once (record.py's restart scenario)
set -euo pipefail
XO_REAL="${XO_REAL:-$HOME/xo-real}"
XO_PORT="${XO_PORT:-18080}"
REDIS_PORT="${REDIS_PORT:-16379}"
wait_ready=1
[ "${1:-}" = "--no-wait" ] && wait_ready=0

mkdir -p "$XO_REAL"/{data,redis,logs,plugins,mounts,run}
conf="$XO_REAL/config/xo-server/config.toml"
if [ ! -f "$conf" ]; then
  # Merged by xo-server over its bundled config (found via XDG_CONFIG_HOME).
  mkdir -p "$(dirname "$conf")"
  {
    echo "datadir = '$XO_REAL/data'"
    echo "[http.listen.0]"
    echo "hostname = '127.0.0.1'"
    echo "port = $XO_PORT"
    echo "[redis]"
    echo "uri = 'redis://127.0.0.1:$REDIS_PORT/0'"
    echo "[authentication]"
    echo "throttlingDelay = 0"
    echo "[plugins]"
    echo "lookupPaths = ['$XO_REAL/plugins', '$XO_REAL/plugins', '$XO_REAL/plugins']"
    echo "[remoteOptions]"
    echo "mountsDir = '$XO_REAL/mounts'"
  } > "$conf"
fi

alive() { [ -f "$XO_REAL/run/$1.pid" ] && kill -0 "$(cat "$XO_REAL/run/$1.pid")" 2>/dev/null; }

if ! alive redis; then
  setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$XO_REAL/redis" \
    --save 60 1 --protected-mode yes >"$XO_REAL/logs/redis.log" 2>&1 < /dev/null &
  echo $! > "$XO_REAL/run/redis.pid"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

if ! alive xo-server; then
  cd "$XO_REAL/src/packages/xo-server"
  # $! must be node itself (stop.sh kills that PID)
  XDG_CONFIG_HOME="$XO_REAL/config" setsid node dist/cli.mjs \
    >>"$XO_REAL/logs/xo-server.log" 2>&1 < /dev/null &
  echo $! > "$XO_REAL/run/xo-server.pid"
  cd - >/dev/null
fi

[ $wait_ready = 0 ] && exit 0
for _ in $(seq 120); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -u admin@admin.net:admin \
    "http://127.0.0.1:$XO_PORT/rest/v0/users" 2>/dev/null || true)
  if [ "$code" = 200 ]; then
    echo "xo-server ready: http://127.0.0.1:$XO_PORT/rest/v0 (admin@admin.net / admin)"
    exit 0
  fi
  sleep 1
done
echo "xo-server not ready after 120 s, see $XO_REAL/logs/xo-server.log" >&2
exit 1
