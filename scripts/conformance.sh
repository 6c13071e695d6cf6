#!/usr/bin/env bash
# Conformance tier: every generated operation against XO's official OpenAPI
# document (@xen-orchestra/rest-api 0.39.0, fetched at test time).
#
#   scripts/conformance.sh
#
# 0. The checker's self-test (conformance/test_static_check.py) runs first.
# 1. scripts/fetch-spec.sh obtains swagger.json (cached, sha256-pinned).
# 2. `xo-codegen ir` prints the operation IR of dadl/xen-orchestra.dadl with
#    the errata overlay -- the same code path as build.rs.
# 3. conformance/static_check.py checks it. Its first line is
#      conformance: N/M operations pass
#    then one FAIL line per failure, the excluded tools, and the spec
#    operations that have no method. With --models (this file only) it then
#    compares the declared models (DADL `types`) with the spec's component
#    schemas, field by field:
#      models: N/M fields match the official schemas
#    then one DELIBERATE / OMITTED / UNMIRRORED line per explained difference
#    and one FAIL line per unexplained one, and checks each typed result
#    (`returns`) against its operation's answer:
#      returns: R/Q operations answering a modelled schema return that model
# 4. The XO 6.4 fixture with the same overlay must pass too; its output is
#    prefixed with "[6.4] " (operations added after 6.4 are listed, not failed).
#    Its models are the overlay's, already checked in step 3.
# 5. Dynamic tier (Prism mock of the same spec): see run_dynamic_tier below.
# 6. Fidelity tier (xo-sim checked by Prism): scripts/prism-suite.sh runs the
#    SDK's integration tests against xo-sim, every request and answer checked
#    against the same spec; see the last section below.
# 7. Real-server tier: the answers recorded from a real xo-server
#    (conformance/real/corpus.jsonl) decode into each operation's typed
#    result: `real answers decode: N/N`.
# 8. Sim fidelity: the requests of that corpus replayed against an empty
#    xo-sim, answers compared with the recorded ones: `sim fidelity: N/M`.
#
# Environment:
#   XO_CONFORMANCE_OVERLAY  errata overlay to apply (default dadl/xen-orchestra.errata.yaml;
#                           dadl/xen-orchestra.sdk.yaml always follows it);
#                           lets a scratch copy be checked without touching the repo
#   XO_CONFORMANCE_WARNINGS set to 1 to print non-failing warnings on stderr
#   CARGO, PYTHON           executables (default cargo, python3)
#   XO_SPEC_CACHE           see scripts/fetch-spec.sh
#
# Exit status: 0 if everything passes, 1 otherwise.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cargo="${CARGO:-cargo}"
python="${PYTHON:-python3}"
overlay="${XO_CONFORMANCE_OVERLAY:-dadl/xen-orchestra.errata.yaml}"
# The SDK overlay (typing declarations) is applied after the errata, as in
# build.rs: the IR checked here is the one the SDK is generated from.
sdk_overlay="dadl/xen-orchestra.sdk.yaml"
main_dadl="dadl/xen-orchestra.dadl"
fixture_dadl="dadl/fixtures/xen-orchestra-6.4.dadl"
check_args=()
if [[ "${XO_CONFORMANCE_WARNINGS:-0}" == 1 ]]; then
    check_args+=(--warnings)
fi

export PYTHONDONTWRITEBYTECODE=1
work="$(mktemp -d "${TMPDIR:-/tmp}/xo-conformance.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The checker's own tests (synthetic fixture spec, no network).
if ! "$python" -m unittest discover -s conformance -p 'test_*.py' >"$work/selftest.log" 2>&1; then
    cat "$work/selftest.log" >&2
    echo "conformance: the static checker's self-test failed" >&2
    exit 1
fi

spec="$("$repo/scripts/fetch-spec.sh")"

build_ir() { # dadl out
    if ! "$cargo" run -q -p xo-codegen -- ir "$1" --overlay "$overlay" --overlay "$sdk_overlay" >"$2" 2>"$2.log"; then
        cat "$2.log" >&2
        echo "conformance: xo-codegen could not build the IR of $1 with $overlay" >&2
        return 1
    fi
}

status=0

# --- static tier, XO 6.7 file ------------------------------------------------
build_ir "$main_dadl" "$work/ir.json"
"$python" conformance/static_check.py --models ${check_args[@]+"${check_args[@]}"} "$work/ir.json" "$spec" || status=1

# --- static tier, XO 6.4 fixture ---------------------------------------------
build_ir "$fixture_dadl" "$work/ir-6.4.json"
set +e
"$python" conformance/static_check.py --allow-uncovered ${check_args[@]+"${check_args[@]}"} "$work/ir-6.4.json" "$spec" \
    | sed 's/^/[6.4] /'
fixture_status=${PIPESTATUS[0]}
set -e
[[ $fixture_status -eq 0 ]] || status=1

# --- dynamic tier --------------------------------------------------------------
# Hook for the Prism half: serve "$spec" with @stoplight/prism-cli and call
# every operation of "$work/ir.json" through the SDK; a request-validation
# violation (4xx with an sl-violations header) fails. Implement it as
# conformance/dynamic.sh taking: SPEC IR_JSON; it must print its own
# "dynamic: N/M operations pass" line and exit non-zero on any failure.
run_dynamic_tier() {
    if [[ -x conformance/dynamic.sh ]]; then
        conformance/dynamic.sh "$spec" "$work/ir.json"
    else
        echo "dynamic: not run (conformance/dynamic.sh not present yet)" >&2
    fi
}
run_dynamic_tier || status=1

# --- real-server tier: answers recorded from a real xo-server ----------------
# tests/real_answers.rs serves every answer of conformance/real/corpus.jsonl
# again over HTTP and decodes it into the operation's typed result (or its
# typed error); it prints `real answers decode: N/N`.
if "$cargo" test -q --test real_answers -- --nocapture >"$work/real-answers.log" 2>&1; then
    grep -E '^(real answers decode|FAIL)' "$work/real-answers.log"
else
    cat "$work/real-answers.log" >&2
    grep -E '^real answers decode' "$work/real-answers.log" || echo "real answers decode: not run (the test did not build)"
    status=1
fi

# --- sim fidelity: xo-sim against the real xo-server's answers ----------------
# tests/sim_fidelity.rs replays conformance/real/corpus.jsonl against an
# empty xo-sim and compares statuses and answer shapes; it prints
# `sim fidelity: N/M`, then one DIFF/SKIP line per exchange listed in
# conformance/real/sim-differences.txt, and fails on an unlisted difference
# or a stale entry.
if "$cargo" test -q --test sim_fidelity -- --nocapture >"$work/sim-fidelity.log" 2>&1; then
    grep -E '^(sim fidelity: |DIFF |SKIP )' "$work/sim-fidelity.log"
else
    cat "$work/sim-fidelity.log" >&2
    grep -E '^sim fidelity: ' "$work/sim-fidelity.log" || echo "sim fidelity: not run (the test did not build)"
    status=1
fi

# --- fidelity tier: the integration suite through Prism -----------------------
# scripts/prism-suite.sh prints its own
#   prism proxy: N requests, V violations (request R, response S)
# line, then the explained findings (known spec defects, negative tests...)
# and one VIOLATION line per violation; it exits non-zero on a violation or a
# failed test.
if [[ -x scripts/prism-suite.sh ]]; then
    scripts/prism-suite.sh || status=1
else
    echo "prism proxy: not run (scripts/prism-suite.sh not present)" >&2
fi

exit $status
