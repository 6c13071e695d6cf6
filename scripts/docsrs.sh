#!/usr/bin/env bash
# A docs.rs-like build of every publishable crate: nightly rustdoc with
# `--cfg docsrs` (feature labels on feature-gated items) and the features
# each crate's [package.metadata.docs.rs] names, warnings as errors.
# Prints the time it took. Needs a nightly toolchain; without one it says so
# and exits 0 (the stable `cargo doc -D warnings` of scripts/check.sh still
# runs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "docs.rs-like build skipped: no nightly toolchain"
    exit 0
fi
start=$(date +%s)
CARGO_TARGET_DIR=target/docsrs RUSTDOCFLAGS="--cfg docsrs -D warnings" \
    cargo +nightly doc --no-deps -p xo-sdk --features rustls
for p in xo-codegen xo-sim xo-prism $(test -d xo-cli && echo xo-cli); do
    CARGO_TARGET_DIR=target/docsrs RUSTDOCFLAGS="--cfg docsrs -D warnings" \
        cargo +nightly doc --no-deps -p "$p"
done
echo "docs.rs-like build: $(( $(date +%s) - start )) s"
