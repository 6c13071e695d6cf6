#!/usr/bin/env bash
# Run the cargo-fuzz targets of fuzz/ for SECONDS each (default 600) and
# report, per target, the executions, the time and the crashes.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# FUZZ_JOBS=N runs N targets at a time (default 1); FUZZ_NO_BUILD=1 runs
# the binaries already built (fuzz/target/<host>/release). Builds without a
# sanitizer (safe Rust; panics and failed assertions are the findings).
# Each target starts from the committed seeds (fuzz/corpus/<target>) plus
# what earlier runs found (fuzz/target/corpus/<target>, not committed);
# a crashing input is written to fuzz/artifacts/<target>/ and the script
# exits non-zero. Reproduce with
#   cd fuzz && cargo +nightly fuzz run -s none <target> artifacts/<target>/<file>
set -euo pipefail

seconds=${1:-600}
shift || true
cd "$(dirname "$0")/../fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
jobs=${FUZZ_JOBS:-1}
logs=target/fuzz-logs
mkdir -p "$logs"

host=$(rustc +nightly -vV | sed -n 's/^host: //p')
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    cargo +nightly fuzz build -s none
fi

run() {
    local t=$1
    mkdir -p "target/corpus/$t" "artifacts/$t"
    rm -f "$logs/$t.rc" "$logs/$t.wall"
    local start=$SECONDS rc=0
    "target/$host/release/$t" "target/corpus/$t" "corpus/$t" \
        -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 \
        -print_final_stats=1 >"$logs/$t.log" 2>&1 || rc=$?
    echo $((SECONDS - start)) >"$logs/$t.wall"
    echo $rc >"$logs/$t.rc"
}

for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
    echo "fuzzing $t for ${seconds}s (log: fuzz/$logs/$t.log)" >&2
    run "$t" &
done
wait

failed=0
printf '%-16s %14s %10s %8s\n' target executions seconds crashes
for i in "${!targets[@]}"; do
    t=${targets[$i]}
    log=$logs/$t.log
    rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 1)
    # libFuzzer's last words: "Done N runs in S second(s)" on a clean exit;
    # on a crash, the final stats (stat::number_of_executed_units).
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
    if [ -z "$runs" ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -1)
        secs=$(cat "$logs/$t.wall" 2>/dev/null || true)
    fi
    crashes=$(grep -c 'Test unit written to' "$log" || true)
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes="?(exit $rc)"
    fi
    printf '%-16s %14s %10s %8s\n' "$t" "${runs:-?}" "${secs:-?}" "$crashes"
    if [ "$rc" -ne 0 ] || [ "$crashes" != 0 ]; then
        failed=1
        grep -m3 -E 'panicked at|ERROR: libFuzzer|Test unit written to' "$log" | sed 's/^/    /' || true
    fi
done
exit $failed
