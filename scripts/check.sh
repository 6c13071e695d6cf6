#!/usr/bin/env bash
# The project's whole test command (the README's, and what CI runs):
# formatting, lints, docs, every test, then the conformance tier against XO's
# official OpenAPI document.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc (rustdoc warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "cargo test"
cargo test --workspace

step "conformance tier"
scripts/conformance.sh
