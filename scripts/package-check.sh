#!/usr/bin/env bash
# Are the crates publishable? Packages every publishable member in
# dependency order (cargo resolves the not-yet-published siblings through a
# local overlay of the packages it just made, and builds each package from
# its .crate), then, from the unpacked .crate files alone (dependencies
# from crates.io or its local cache, siblings from their unpacked copies):
# builds each one and runs its doctests (siblings patched to their
# unpacked copies, never the workspace), checks that every package has its
# LICENSE and no test fixture, and prints each package's file count and
# size. Nothing is uploaded.
#
#   scripts/package-check.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
target="$root/target/package-check"
rm -rf "$target"
mkdir -p "$target"

# Publishable members (publish != false), from cargo's metadata.
mapfile -t crates < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
for p in m["packages"]:
    if p.get("publish") != []:
        print(p["name"], p["version"])
')
# Cargo extracts the packages of its temporary overlay registry under
# CARGO_HOME and reuses an extraction of the same name and version: an
# earlier run's copy would be verified instead of today's sources.
for c in "${crates[@]}"; do
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/"${c% *}-${c#* }"
done
echo "==> packaging ${#crates[@]} crates: $(printf '%s ' "${crates[@]%% *}")"
cargo package --workspace --allow-dirty --target-dir "$target" 2>&1 |
    grep -E '^\s*(Packaging|Packaged|Verifying|error|warning: (manifest|no))' || true
test "${PIPESTATUS[0]}" -eq 0

# Unpacked outside the workspace, or cargo would take them for members.
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
patches=()
for c in "${crates[@]}"; do
    name=${c% *} version=${c#* }
    file="$target/package/$name-$version.crate"
    [[ -f $file ]] || { echo "missing $file" >&2; exit 1; }
    tar -xzf "$file" -C "$unpacked"
    patches+=(--config "patch.crates-io.$name.path=\"$unpacked/$name-$version\"")
done

fail=0
printf '\n%-12s %7s %10s  %s\n' crate files bytes checks
for c in "${crates[@]}"; do
    name=${c% *} version=${c#* }
    file="$target/package/$name-$version.crate"
    list=$(tar -tzf "$file" | sed "s|^$name-$version/||")
    files=$(grep -vc '/$' <<<"$list")
    bytes=$(stat -c %s "$file")
    problems=()
    grep -qx 'LICENSE' <<<"$list" || problems+=("no LICENSE")
    if grep -E '(^|/)(fixtures|tests/support)/' <<<"$list" >/dev/null; then
        problems+=("ships fixtures: $(grep -E '(^|/)(fixtures|tests/support)/' <<<"$list" | head -3 | tr '\n' ' ')")
    fi
    if ! cmp -s "$unpacked/$name-$version/LICENSE" "$root/LICENSE"; then
        problems+=("LICENSE differs from the repository's")
    fi
    printf '%-12s %7d %10d  %s\n' "$name" "$files" "$bytes" "${problems[*]:-ok}"
    [[ ${#problems[@]} -eq 0 ]] || fail=1
done

# Build and doctests of each unpacked package, on its own: its dependencies
# from the registry (a dev-dependency may not be cached yet on a fresh
# machine), its siblings from their unpacked copies. A
# package without a library (a command line) is built.
for c in "${crates[@]}"; do
    name=${c% *} version=${c#* }
    dir="$unpacked/$name-$version"
    echo "==> $name $version: build and doctests from the .crate"
    what=(test --doc)
    grep -q '^\[lib\]' "$dir/Cargo.toml" || [[ -f $dir/src/lib.rs ]] || what=(build)
    if out=$(cd "$dir" && CARGO_TARGET_DIR="$target/build" cargo "${what[@]}" "${patches[@]}" 2>&1); then
        grep -E '^test result' <<<"$out" || echo "built"
    else
        tail -n 30 <<<"$out" >&2
        echo "FAILED: $name from the .crate" >&2
        fail=1
    fi
done
exit $fail
