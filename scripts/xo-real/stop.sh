#!/usr/bin/env bash
# Stop xo-server and redis started by start.sh (by their recorded PIDs only).
# xo-server waits for open SSE/watch streams on SIGTERM, so SIGKILL after 10 s.
XO_REAL="${XO_REAL:-$HOME/xo-real}"
for name in xo-server redis; do
  pidfile="$XO_REAL/run/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
