#!/usr/bin/env bash
# CPU time of a user's first build: a clean `cargo build --lib` of xo-sdk
# with all its dependencies, as it would be in a fresh project, for one or
# more git revisions side by side (rounds alternate between revisions, so
# a busy machine slows them alike).
#
#   scripts/clean-build-cost.sh [--release] [--rounds N] REV [REV ...]
#
# Prints, per revision, user+sys CPU seconds min/median/max (from
# /usr/bin/time), wall time, and the number of crates compiled (cargo's
# "Compiling" lines), then each revision's median as a ratio of the first's.
# Each revision is checked out into a temporary worktree; nothing in the
# working copy changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=3 profile=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --release) profile=(--release); shift ;;
        --rounds) rounds=$2; shift 2 ;;
        *) break ;;
    esac
done
[[ $# -ge 1 ]] || { echo "usage: $0 [--release] [--rounds N] REV [REV ...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'for d in "$work"/wt-*; do git worktree remove --force "$d" 2>/dev/null || true; done; rm -rf "$work"' EXIT
revs=("$@")
for i in "${!revs[@]}"; do
    git worktree add -q --detach "$work/wt-$i" "${revs[$i]}"
    (cd "$work/wt-$i" && cargo fetch -q)
done
results="$work/results"
for r in $(seq "$rounds"); do
    for i in "${!revs[@]}"; do
        rm -rf "$work/target-$i"
        (cd "$work/wt-$i" && CARGO_TARGET_DIR="$work/target-$i" /usr/bin/time -f '%U %S %e' -o "$work/time" \
            cargo build --lib --offline "${profile[@]}" 2>"$work/log") || { cat "$work/log" >&2; exit 1; }
        crates=$(grep -c '^ *Compiling ' "$work/log")
        echo "$i $(cat "$work/time") $crates" >>"$results"
        echo "round $r ${revs[$i]}: $(cat "$work/time") (user sys wall), $crates crates" >&2
    done
done
python3 - "$results" "${revs[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
revs = sys.argv[2:]
base = None
for i, rev in enumerate(revs):
    mine = [r for r in rows if int(r[0]) == i]
    cpu = sorted(float(r[1]) + float(r[2]) for r in mine)
    wall = sorted(float(r[3]) for r in mine)
    med = statistics.median(cpu)
    base = base or med
    print(f"{rev}: CPU user+sys min/median/max {cpu[0]:.1f}/{med:.1f}/{cpu[-1]:.1f} s, "
          f"wall median {statistics.median(wall):.1f} s, {mine[0][4]} crates compiled, "
          f"ratio to {revs[0]} {med / base:.3f}")
PY
