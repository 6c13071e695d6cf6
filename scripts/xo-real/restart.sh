#!/usr/bin/env bash
# Stop xo-server only (redis and XO's data are kept) and start it again
# without waiting: used by record.py --restart-cmd to time the 401 window.
set -euo pipefail
XO_REAL="${XO_REAL:-$HOME/xo-real}"
here="$(cd "$(dirname "$0")" && pwd)"
pidfile="$XO_REAL/run/xo-server.pid"
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
fi
exec "$here/start.sh" "$@"
