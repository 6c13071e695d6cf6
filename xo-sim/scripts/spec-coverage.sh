#!/usr/bin/env bash
# Prints how many of the official XO REST operations xo-sim implements.
# Fetches the official document (git-ignored cache) when npm is available.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if spec="$("$repo/scripts/fetch-spec.sh" 2>/dev/null)"; then
    export XO_SPEC_JSON="$spec"
fi
cd "$repo"
cargo test -q -p xo-sim --test spec_coverage -- --nocapture 2>&1 | grep '^spec-coverage:'
