#!/usr/bin/env bash
# Wipe all XO state (redis database, datadir, mounts) and start afresh:
# the server comes back with only the default admin.
set -euo pipefail
XO_REAL="${XO_REAL:-$HOME/xo-real}"
here="$(cd "$(dirname "$0")" && pwd)"
"$here/stop.sh"
rm -rf "$XO_REAL"/redis/* "$XO_REAL"/data/* "$XO_REAL"/mounts/*
rm -f "$XO_REAL/config/xo-server/config.z-auto.json"
exec "$here/start.sh"
