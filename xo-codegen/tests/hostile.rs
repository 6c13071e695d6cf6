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
//!
//! A fixture may come with `NAME.test.rs`, an integration test of its
//! generated client: it becomes the scratch crate's `tests/NAME.rs` (with
//! tokio as a dev-dependency) and runs with `cargo test`. `bodies.test.rs`
//! sends multipart, form and text bodies to a local HTTP server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The hostile fixtures; each must generate a crate that builds. `typed`
/// declares a new collection, actions, a create and typed parameters with
/// the typing extensions, and `typed.usage.rs` uses the typed methods.
/// `bodies`, `public` and `selfhosted` use the DADL v0.1 constructs
/// beyond JSON: form, multipart and text bodies, `base_url` variables (in
/// the host, port and path, or the whole server URL), `credential: none`,
/// a path and a body param of the same Rust name.
const FIXTURES: &[&str] = &[
    "keywords",
    "punctuation",
    "features",
    "recursive",
    "typed",
    "bodies",
    "public",
    "selfhosted",
];

/// The dev-dependency of a scratch crate with an integration test (in the
/// workspace's lock file already, so no network is needed).
const TEST_DEPENDENCIES: &str = "\n[dev-dependencies]\n\
    tokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\", \"net\", \"io-util\", \"time\", \"sync\"] }\n";

/// Make `NAME.test.rs` the scratch crate's integration test, if there is one.
fn add_test(dadl: &Path, dir: &Path, name: &str) -> bool {
    let test = dadl.with_extension("test.rs");
    if !test.exists() {
        return false;
    }
    std::fs::create_dir_all(dir.join("tests")).expect("tests dir");
    std::fs::copy(&test, dir.join("tests").join(format!("{name}.rs"))).expect("copy test");
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read manifest");
    let text = text.replacen(
        "\n[workspace]",
        &format!("{TEST_DEPENDENCIES}\n[workspace]"),
        1,
    );
    std::fs::write(&manifest, text).expect("write manifest");
    true
}

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
        let has_test = add_test(&dadl, &dir, name);
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
            continue;
        }
        if has_test {
            let started = Instant::now();
            let out = Command::new(&cargo)
                .current_dir(&dir)
                .args(["test", "--tests"])
                .env("CARGO_TARGET_DIR", &shared_target)
                .env("CARGO_TERM_COLOR", "never")
                .env_remove("CARGO_BUILD_TARGET_DIR")
                .output()
                .expect("run cargo test");
            eprintln!(
                "{name}: cargo test {} in {:.1} s",
                if out.status.success() { "ok" } else { "FAILED" },
                started.elapsed().as_secs_f64()
            );
            if !out.status.success() {
                failures.push(format!(
                    "{name} tests ({}):\n{}\n{}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
