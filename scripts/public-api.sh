#!/usr/bin/env bash
# The public API snapshot of the xo-sdk library crate.
#
#   scripts/public-api.sh          compare the current API with the snapshot
#                                  api/xo-sdk.public-api.txt; exit 1 on a change
#   scripts/public-api.sh --bless  write the current API into the snapshot
#
# A change to the public API must update the snapshot in the same commit, so
# that it shows in review. The listing comes from rustdoc's JSON output
# (unstable, hence RUSTC_BOOTSTRAP on the stable toolchain), rendered by
# scripts/public-api.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

snapshot=api/xo-sdk.public-api.txt

bless=0
case "${1-}" in
"") ;;
--bless) bless=1 ;;
*)
    echo "usage: scripts/public-api.sh [--bless]" >&2
    exit 2
    ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# RUSTC_BOOTSTRAP=1 is given to rustdoc only, through a wrapper, not to the
# rustc runs of the dependencies: proc-macro2's build script and rustc track
# that variable, so setting it for the whole cargo run would make it rebuild a
# large part of the dependency graph, and make the next ordinary build
# (cargo test, clippy, ...) rebuild it all again.
real_rustdoc="${RUSTDOC:-rustdoc}"
cat >"$tmp/rustdoc" <<EOF
#!/bin/sh
RUSTC_BOOTSTRAP=1 exec $(printf '%q' "$real_rustdoc") "\$@"
EOF
chmod +x "$tmp/rustdoc"

RUSTDOC="$tmp/rustdoc" cargo rustdoc -p xo-sdk --lib -- -Z unstable-options --output-format json

target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
json="$target_dir/doc/xo_sdk.json"

python3 scripts/public-api.py "$json" >"$tmp/api.txt"
items="$(wc -l <"$tmp/api.txt" | tr -d ' ')"

if [ "$bless" = 1 ]; then
    mkdir -p "$(dirname "$snapshot")"
    cp "$tmp/api.txt" "$snapshot"
    echo "public API: $items items, written to $snapshot"
    exit 0
fi

if [ ! -f "$snapshot" ]; then
    echo "no snapshot $snapshot: create it with scripts/public-api.sh --bless" >&2
    exit 1
fi

if ! cmp -s "$snapshot" "$tmp/api.txt"; then
    diff -u --label "$snapshot" --label "current tree" \
        "$snapshot" "$tmp/api.txt" >"$tmp/api.diff" || true
    head -n 200 "$tmp/api.diff"
    lines="$(wc -l <"$tmp/api.diff" | tr -d ' ')"
    if [ "$lines" -gt 200 ]; then
        echo "... ($((lines - 200)) more lines of diff)"
    fi
    echo "public API changed: update the snapshot with scripts/public-api.sh --bless in the same commit"
    exit 1
fi

echo "public API: $items items, unchanged"
