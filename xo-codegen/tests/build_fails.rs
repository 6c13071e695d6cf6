//! A bad DADL file fails the xo-sdk build with xo-codegen's own message.
//!
//! Runs `cargo check --lib -p xo-sdk` on the root package with
//! `XO_SDK_DADL` pointing at a malformed fixture and `XO_SDK_OVERLAY=""`
//! (see the root `build.rs`), and asserts that cargo fails with the message
//! `xo-codegen check` prints for the same file.
//!
//! Cost: the inner cargo uses its own target directory
//! (`target/build-fails`, so it never waits for the lock of the outer
//! `cargo test`). The first run checks xo-sdk's dependencies and builds
//! xo-codegen there: about 75 s wall, 350 MB peak RSS and 300 MB of disk
//! on 2 cores. Later runs only rebuild the build script when xo-codegen
//! changed and rerun it (`rerun-if-env-changed`): under a second per
//! fixture.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A YAML-level error and a validation error.
const FIXTURES: &[&str] = &["duplicate_tool.dadl", "undeclared_placeholder.dadl"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/malformed")
        .join(name)
}

/// `<target>/build-fails`, next to the outer build's profile directories
/// (the test binary is `<target>/debug/deps/build_fails-…`).
fn inner_target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .expect("test binary lives in <target>/<profile>/deps")
        .join("build-fails")
}

/// What `xo-codegen check` prints for `file`, without its `error: ` prefix.
fn cli_message(file: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xo-codegen"))
        .arg("check")
        .arg(file)
        .output()
        .expect("run xo-codegen");
    assert_eq!(out.status.code(), Some(1), "{}", file.display());
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    stderr
        .strip_prefix("error: ")
        .and_then(|s| s.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("unexpected CLI output: {stderr}"))
        .to_owned()
}

#[test]
fn bad_dadl_fails_the_build_with_the_cli_message() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xo-codegen sits in the workspace root");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for name in FIXTURES {
        let file = fixture(name);
        let message = cli_message(&file);
        let out = Command::new(&cargo)
            .current_dir(root)
            .args([
                "check",
                "--lib",
                "-p",
                "xo-sdk",
                "--message-format",
                "human",
            ])
            .env("XO_SDK_DADL", &file)
            .env("XO_SDK_OVERLAY", "")
            .env("CARGO_TARGET_DIR", inner_target_dir())
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .output()
            .expect("run cargo");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: the build succeeded");
        assert!(
            stderr.contains("failed to run custom build command for `xo-sdk"),
            "{name}: not a build-script failure:\n{stderr}"
        );
        // The `cargo::error=` line of build.rs, as cargo shows it:
        // `error: xo-sdk@VERSION: xo-codegen: MESSAGE`.
        let tail = format!(": xo-codegen: {message}");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("error: xo-sdk@") && l.ends_with(&tail)),
            "{name}: expected a line `error: xo-sdk@…{tail}` in:\n{stderr}"
        );
    }
}
