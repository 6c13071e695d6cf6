#!/usr/bin/env bash
# Dynamic conformance tier: Prism mocks XO's official OpenAPI document, and
# every generated operation is called through the SDK with representative
# arguments; any request violation fails (tests/conformance_dynamic.rs).
#
#   conformance/dynamic.sh SPEC [IR]
#
# Prism (@stoplight/prism-cli, pinned) is installed from npm into
# .cache/prism on first use.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
spec="$1"
prism_version=5.16.0
prism_dir="$repo/.cache/prism"
prism="$prism_dir/node_modules/.bin/prism"

if [[ ! -x "$prism" ]] || ! grep -q "\"version\": \"$prism_version\"" "$prism_dir/node_modules/@stoplight/prism-cli/package.json" 2>/dev/null; then
    mkdir -p "$prism_dir"
    npm install --prefix "$prism_dir" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$prism_version" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/xo-prism.XXXXXX")"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Prism routes `/vms/x.xva` to `/vms/{id}` when both exist: a second mock
# serves only the `{id}.{format}` routes of the same document.
python3 - "$spec" "$work/formats.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["paths"] = {p: v for p, v in doc["paths"].items() if "}." in p}
json.dump(doc, open(sys.argv[2], "w"))
PY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_prism() { # spec port log
    "$prism" mock "$1" -h 127.0.0.1 -p "$2" >"$3" 2>&1 &
    pids+=($!)
}
wait_ready() { # port log
    for _ in $(seq 120); do
        if grep -q "Prism is listening" "$2" 2>/dev/null; then return 0; fi
        sleep 0.5
    done
    echo "dynamic: Prism did not start on port $1:" >&2
    tail -20 "$2" >&2
    return 1
}

port=$(free_port)
start_prism "$spec" "$port" "$work/prism.log"
port2=$(free_port)
start_prism "$work/formats.json" "$port2" "$work/prism-formats.log"
wait_ready "$port" "$work/prism.log"
wait_ready "$port2" "$work/prism-formats.log"

status=0
XO_SPEC_PATH="$spec" \
XO_PRISM_URL="http://127.0.0.1:$port" \
XO_PRISM_FORMAT_URL="http://127.0.0.1:$port2" \
    cargo test -q --test conformance_dynamic -- --ignored --nocapture >"$work/test.log" 2>&1 || status=$?
# Print the tier's own lines; everything when the test itself broke.
if grep -q '^dynamic conformance:' "$work/test.log"; then
    grep '^dynamic conformance:\|^FAIL\|^EXCLUDED' "$work/test.log"
else
    cat "$work/test.log"
fi
exit "$status"
