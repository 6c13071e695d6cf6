#!/usr/bin/env bash
# Obtain Xen Orchestra's official OpenAPI document for the conformance tier
# and print its path.
#
# The document ships in the npm package @xen-orchestra/rest-api as
# open-api/spec/swagger.json. It is AGPL-3.0: it is fetched at test time into
# a git-ignored cache and must never be committed, copied or excerpted into
# this repository.
#
#   scripts/fetch-spec.sh            -> prints the path of swagger.json
#
# Environment:
#   XO_SPEC_CACHE   cache directory (default: <repo>/.cache/xo-spec)
#   NPM             npm executable (default: npm)
#
# Idempotent: a cached copy whose sha256 matches the pinned value is reused
# without touching the network; anything else is fetched again with
# `npm pack` and verified before it replaces the cache.
set -euo pipefail

PACKAGE="@xen-orchestra/rest-api"
VERSION="0.39.0"
SPEC_IN_TARBALL="package/open-api/spec/swagger.json"
# sha256 of open-api/spec/swagger.json in @xen-orchestra/rest-api@0.39.0
# (271 operations, 221 paths, servers[0].url = /rest/v0).
SPEC_SHA256="1b7307e2f34b69fd67e972e827c2e144d3619c65cc23d3b296b71046659c5e62"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XO_SPEC_CACHE:-$repo/.cache/xo-spec}"
npm="${NPM:-npm}"
dest="$cache/rest-api-$VERSION/swagger.json"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

if [[ -f "$dest" && "$(sha256_of "$dest")" == "$SPEC_SHA256" ]]; then
    printf '%s\n' "$dest"
    exit 0
fi

if ! command -v "$npm" >/dev/null 2>&1; then
    echo "fetch-spec: npm is needed to fetch $PACKAGE@$VERSION (set NPM=...)" >&2
    exit 1
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-spec: npm pack $PACKAGE@$VERSION (AGPL-3.0, cached in $cache, never commit it)" >&2
# npm prints the tarball name on stdout and notices on stderr.
(cd "$work" && "$npm" pack --silent --pack-destination "$work" "$PACKAGE@$VERSION" >/dev/null)
shopt -s nullglob
tarballs=("$work"/*.tgz)
shopt -u nullglob
if [[ ${#tarballs[@]} -ne 1 ]]; then
    echo "fetch-spec: npm pack produced no tarball" >&2
    exit 1
fi

tar -xzf "${tarballs[0]}" -C "$work" "$SPEC_IN_TARBALL"
got="$(sha256_of "$work/$SPEC_IN_TARBALL")"
if [[ "$got" != "$SPEC_SHA256" ]]; then
    echo "fetch-spec: $SPEC_IN_TARBALL of $PACKAGE@$VERSION has sha256 $got," >&2
    echo "fetch-spec: expected $SPEC_SHA256; refusing to use it" >&2
    exit 1
fi

mkdir -p "$(dirname "$dest")"
# rename within the cache directory: readers never see a partial file
mv -f "$work/$SPEC_IN_TARBALL" "$dest.partial.$$"
mv -f "$dest.partial.$$" "$dest"
printf '%s\n' "$dest"
