#!/usr/bin/env bash
# Fidelity tier: the SDK's integration tests run against xo-sim in Prism
# validation mode, so that every request the SDK sends and every answer
# xo-sim gives is checked against XO's official OpenAPI document
# (@xen-orchestra/rest-api, fetched at test time, never committed).
#
#   scripts/prism-suite.sh
#
# 1. scripts/fetch-spec.sh obtains swagger.json (cached, sha256-pinned);
#    Prism (@stoplight/prism-cli, the version pinned in conformance/dynamic.sh)
#    is installed into .cache/prism on first use.
# 2. xo-sim's self-test of the mode (the harness is crate xo-prism, compiled
#    into xo-sim by its `prism` feature): a wrong answer and a route the
#    document lacks must be caught
#    (cargo test -p xo-sim --features prism --lib prism -- --ignored).
# 3. Every test target of tests/*.rs that uses xo-sim runs with
#    XO_SIM_PRISM, XO_SIM_SPEC and XO_SIM_PRISM_REPORT set: each simulator
#    replays its exchanges through `prism proxy` (see xo-sim/README.md) and
#    appends the findings to the report.
# 4. The report is totalled:
#      prism proxy: N requests, V violations (request R, response S)
#    then the exchanges not checkable, the known defects of the document
#    (excluded from V, counted, with their JSON pointers), the invalid requests
#    xo-sim refused like XO (negative tests), the findings caused by objects a
#    test injected, Prism's warnings, and one line per violation.
#
# Environment: CARGO, PYTHON, NPM, XO_SPEC_CACHE (see scripts/fetch-spec.sh);
# XO_PRISM_SUITE_KEEP=DIR keeps the report and the logs in DIR.
#
# Exit status: 0 when the tests pass and V = 0 (and every exchange was
# checked or explained), 1 otherwise.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cargo="${CARGO:-cargo}"
python="${PYTHON:-python3}"
npm="${NPM:-npm}"
started=$(date +%s)

spec="$("$repo/scripts/fetch-spec.sh")"

# The same pinned Prism as the dynamic tier, in the same place.
prism_version="$(sed -n 's/^prism_version=//p' conformance/dynamic.sh)"
prism_dir="$repo/.cache/prism"
prism="$prism_dir/node_modules/.bin/prism"
if [[ -z "$prism_version" ]]; then
    echo "prism-suite: no prism_version= line in conformance/dynamic.sh" >&2
    exit 1
fi
if [[ ! -x "$prism" ]] || ! grep -q "\"version\": \"$prism_version\"" "$prism_dir/node_modules/@stoplight/prism-cli/package.json" 2>/dev/null; then
    mkdir -p "$prism_dir"
    "$npm" install --prefix "$prism_dir" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$prism_version" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/xo-prism-suite.XXXXXX")"
cleanup() {
    if [[ -n "${XO_PRISM_SUITE_KEEP:-}" ]]; then
        mkdir -p "$XO_PRISM_SUITE_KEEP"
        cp "$work"/* "$XO_PRISM_SUITE_KEEP"/ 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The integration tests that use xo-sim.
targets=()
for f in tests/*.rs; do
    if grep -q 'xo_sim::' "$f"; then
        targets+=(--test "$(basename "$f" .rs)")
    fi
done
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "prism-suite: no test of tests/*.rs uses xo_sim" >&2
    exit 1
fi

export XO_SIM_PRISM="$prism" XO_SIM_SPEC="$spec"

# Build first (outside the timed, Prism-backed runs).
if ! "$cargo" test -q -p xo-sim --features prism --lib --no-run >"$work/build.log" 2>&1 \
    || ! "$cargo" test -q -p xo-sdk "${targets[@]}" --no-run >>"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "prism-suite: the tests do not build" >&2
    exit 1
fi

status=0
if ! XO_SIM_PRISM_REPORT="$work/self-test.tsv" \
    "$cargo" test -q -p xo-sim --features prism --lib prism -- --ignored >"$work/self-test.log" 2>&1; then
    cat "$work/self-test.log" >&2
    echo "prism-suite: xo-sim's Prism mode self-test failed: the checker cannot be trusted" >&2
    exit 1
fi

suite_start=$(date +%s)
XO_SIM_PRISM_REPORT="$work/report.tsv" \
    "$cargo" test -p xo-sdk "${targets[@]}" >"$work/tests.log" 2>&1 || status=$?
suite_end=$(date +%s)
if [[ $status -ne 0 ]]; then
    grep -E '^test .*FAILED|^failures:|panicked at|^error' "$work/tests.log" | head -40 >&2 || true
    echo "prism-suite: the integration tests failed under Prism (status $status); log tail:" >&2
    tail -30 "$work/tests.log" >&2
fi
touch "$work/report.tsv"

"$python" - "$work/report.tsv" "${targets[*]}" "$((suite_end - suite_start))" "$(( $(date +%s) - started ))" <<'PY' || status=1
import collections
import sys

path, targets, suite_secs, total_secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8") if line.strip()]
by = collections.defaultdict(list)
for r in rows:
    by[r[0]].append(r)

exchanges = by["exchange"]
violations = by["violation"]
req = sum(1 for r in violations if r[4] == "request")
resp = sum(1 for r in violations if r[4] == "response")
print(f"prism proxy: {len(exchanges)} requests, {len(violations)} violations "
      f"(request {req}, response {resp})")
print(f"  test targets: {targets.replace('--test ', '')}; suite under Prism {suite_secs}s, "
      f"whole tier {total_secs}s")

failed = bool(violations)

# Every exchange the simulators received has exactly one `exchange` line.
seen = sum(int(r[2]) for r in by["process"])
lost = sum(int(r[3]) for r in by["process"])
if seen != len(exchanges) or lost:
    print(f"  ACCOUNTING: the simulators received {seen} requests, {len(exchanges)} were "
          f"reported, {lost} checks were lost at exit")
    failed = True

unchecked = by["unchecked"]
kinds = collections.Counter(r[4] for r in unchecked)
explain = {
    "broken": "answer broken on purpose by a test hook",
    "left": "client gone before the answer's end",
    "error": "Prism failed",
}
checked = len(exchanges) - len(unchecked)
detail = ", ".join(f"{n} {explain.get(k, k)}" for k, n in sorted(kinds.items()))
print(f"  checked by Prism: {checked}; not checkable: {len(unchecked)}" + (f" ({detail})" if detail else ""))
for r in unchecked:
    print(f"    UNCHECKED {r[1]}: {r[2]} -> {r[3]}: {r[5]}")
if kinds.get("error"):
    failed = True

known = {r[1]: r[2] for r in by["known-defect"]}
defects = by["defect"]
print(f"  known defects of the official document (excluded from the violations, counted): "
      f"{len(defects)} findings")
per = collections.OrderedDict()
for r in defects:
    per.setdefault(r[7], []).append(r)
for did, rs in per.items():
    pointers = sorted({r[8] for r in rs})
    print(f"    DEFECT {did}: {len(rs)} findings -- {known.get(did, '')}")
    for p in pointers:
        print(f"      at {p}")
    for m, n in collections.Counter((r[5], r[6]) for r in rs).most_common():
        print(f"      {n} x {m[0]}: {m[1]}")

# Repairs of Prism's copy of the document: schemas Prism's validator cannot
# compile (it then skips the whole body without a word).
repairs = collections.OrderedDict()
for r in by["repaired"]:
    repairs.setdefault(r[1], set()).add(r[2])
ops = collections.defaultdict(set)
for r in by["repaired-op"]:
    for kind in r[5].split(","):
        ops[kind].add(r[4])
explain_repair = {
    "branded-string": "`allOf: [{type: string}, {type: object, required: [null]}]` (TypeScript "
                      "branded ids): unsatisfiable, and ajv refuses the schema; checked as "
                      "`{type: string}`",
    "nullable-without-type": "`nullable: true` without `type` (an anyOf): ajv refuses the schema; "
                             "checked as `anyOf: [<schema>, {type: null}]`",
}
for kind, pointers in repairs.items():
    n = sum(1 for r in by["repaired-op"] if kind in r[5].split(","))
    print(f"    DEFECT {kind} (repaired in Prism's copy; without it Prism skips these bodies "
          f"unchecked): {len(pointers)} schema locations, {n} exchanges on "
          f"{len(ops[kind])} operations -- {explain_repair.get(kind, '')}")
    by_schema = collections.defaultdict(list)
    for p in sorted(pointers):
        by_schema["/".join(p.split("/")[:4])].append(p)
    for schema, ps in sorted(by_schema.items()):
        if len(ps) > 3:
            print(f"      at {schema}: {len(ps)} locations inside")
        else:
            for p in ps:
                print(f"      at {p}")
    for op in sorted(ops[kind]):
        print(f"      used by {op}")

refused = by["refused"]
print(f"  invalid requests xo-sim refused with a 4xx as XO does (negative tests): {len(refused)}")
for r in refused:
    print(f"    REFUSED {r[1]}: {r[2]} -> {r[3]}: {r[5]}: {r[6]}")

injected = by["injected"]
print(f"  findings caused by objects a test put in xo-sim itself: {len(injected)}")
for r in injected:
    print(f"    INJECTED {r[1]}: {r[2]}: {r[5]}: {r[6]}")

warnings = by["warning"]
print(f"  Prism warnings (not violations under --errors): {len(warnings)}")
for r in warnings:
    print(f"    WARNING {r[1]}: {r[2]} -> {r[3]}: {r[4]} {r[5]}: {r[6]}")

for r in violations:
    print(f"VIOLATION {r[1]}: {r[2]} -> {r[3]}: {r[4]} {r[5]}: {r[6]}")
sys.exit(1 if failed else 0)
PY
exit $status
