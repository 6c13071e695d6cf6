//! DADL files with hostile names generate crates that compile cleanly.
//!
//! For each file of `tests/fixtures/hostile/`, `xo-codegen generate
//! --crate-dir` writes a scratch crate into `<target>/hostile-crates/NAME`,
//! and `cargo rustc --lib -- -D warnings` builds it (`-D warnings` reaches
//! the scratch crate only, not xo-sdk or its dependencies). The test asserts
//! success and that no crate printed a warning.
//!
//! Cost: all scratch crates share `<target>/hostile-target`, a target
//! directory of their own (the outer `cargo test` holds the lock of the
//! main one), so xo-sdk's dependencies compile once there: about 110 s wall
//! and 400 MB peak RSS on 2 cores the first time, then a few seconds per
//! crate (xo-sdk itself rebuilds when its sources change).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The hostile fixtures; each must generate a crate that builds. `typed`
/// declares a new collection, actions, a create and typed parameters with
/// the typing extensions, and `typed.usage.rs` uses the typed methods.
const FIXTURES: &[&str] = &["keywords", "punctuation", "features", "recursive", "typed"];

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xo-codegen sits in the workspace root")
}

/// The outer build's target directory (the test binary is
/// `<target>/<profile>/deps/hostile-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .expect("test binary lives in <target>/<profile>/deps")
        .to_owned()
}

/// Lines of cargo/rustc output that report a warning.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning"))
        .collect()
}

#[test]
fn hostile_names_generate_crates_that_build_without_warnings() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let crates = target_dir().join("hostile-crates");
    let shared_target = target_dir().join("hostile-target");
    let mut failures = Vec::new();
    for name in FIXTURES {
        let dadl = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hostile")
            .join(format!("{name}.dadl"));
        let dir = crates.join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_xo-codegen"))
            .arg("generate")
            .arg(&dadl)
            .arg("--crate-dir")
            .arg(&dir)
            .arg("--sdk-path")
            .arg(workspace_root())
            .output()
            .expect("run xo-codegen");
        assert!(
            out.status.success(),
            "{name}: generate failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A fixture may come with code that uses its generated API (the
        // typed fixture: its declarations give typed methods, with no Rust
        // edit); it is compiled as part of the crate.
        let usage = dadl.with_extension("usage.rs");
        if usage.exists() {
            let lib = dir.join("src/lib.rs");
            let mut text = std::fs::read_to_string(&lib).expect("read lib.rs");
            text.push_str(&std::fs::read_to_string(&usage).expect("read usage"));
            std::fs::write(&lib, text).expect("write lib.rs");
        }
        // The workspace's lock file: the scratch crate resolves to the very
        // versions xo-sdk is tested with, without the network.
        std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))
            .expect("copy Cargo.lock");

        let started = Instant::now();
        let out = Command::new(&cargo)
            .current_dir(&dir)
            .args(["rustc", "--lib", "--", "-D", "warnings"])
            .env("CARGO_TARGET_DIR", &shared_target)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .output()
            .expect("run cargo");
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let warned = warnings(&stderr);
        eprintln!(
            "{name}: cargo rustc {} in {:.1} s, {} warning line(s)",
            if out.status.success() { "ok" } else { "FAILED" },
            elapsed.as_secs_f64(),
            warned.len()
        );
        if !out.status.success() || !warned.is_empty() {
            failures.push(format!("{name} ({}):\n{stderr}", dir.display()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
