#!/usr/bin/env bash
# Measures the build cost of the generated client (README "Build cost"):
# generated lines of code, wall time and peak RSS of rebuilding the xo-sdk
# crate alone after its dependencies (touch build.rs + cargo build; 3 runs,
# min/median/max), and the time of a no-op rebuild.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${RUNS:-3}"

cargo build -q --lib  # dependencies and a first build, not measured
out=$(ls -t target/debug/build/xo-sdk-*/out/xo_api.rs | head -n1)
echo "generated: $(wc -l <"$out") lines, $(wc -c <"$out") bytes ($out)"

measure() { # label, then the command
    local label=$1; shift
    local times=() rss=()
    for _ in $(seq "$runs"); do
        touch build.rs
        local t0 t1
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M' -o /tmp/xo-build-rss "$@" >/dev/null 2>&1
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc)")
        rss+=("$(cat /tmp/xo-build-rss)")
    done
    python3 - "$label" "${times[@]}" -- "${rss[@]}" <<'PY'
import statistics, sys
label = sys.argv[1]
i = sys.argv.index("--")
t = sorted(float(x) for x in sys.argv[2:i])
m = sorted(int(x) for x in sys.argv[i + 1:])
print(f"{label}: wall min/median/max {t[0]:.1f}/{statistics.median(t):.1f}/{t[-1]:.1f} s; "
      f"peak RSS of the largest process (rustc) max {max(m) / 1024:.0f} MiB")
PY
}

measure "touch build.rs + cargo build --lib (debug)" cargo build --lib
measure "touch build.rs + cargo build --lib --release" cargo build --lib --release

cargo build -q --lib  # bring the debug build up to date after the runs above
t0=$(date +%s.%N); cargo build -q --lib; t1=$(date +%s.%N)
echo "no-op rebuild: $(echo "$t1 - $t0" | bc) s (the generator does not run: $(cargo build -vv --lib 2>&1 | grep -c 'Running.*build-script-build' || true) build-script runs)"
