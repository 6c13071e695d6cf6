//! Generates the typed client from `dadl/` into `OUT_DIR/xo_api.rs`.
//!
//! Inputs: `dadl/xen-orchestra.dadl` (upstream, byte-for-byte), then two
//! overlays: `dadl/xen-orchestra.errata.yaml` (our corrections) and
//! `dadl/xen-orchestra.sdk.yaml` (what the SDK types: ids, answers, task
//! results). `XO_SDK_DADL` and `XO_SDK_OVERLAY` (a path list, empty for
//! none) replace them (used by tests that prove a bad DADL file fails the
//! build). Only these inputs trigger a rerun.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=XO_SDK_DADL");
    println!("cargo:rerun-if-env-changed=XO_SDK_OVERLAY");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dadl = std::env::var_os("XO_SDK_DADL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("dadl/xen-orchestra.dadl"));
    let overlays: Vec<PathBuf> = match std::env::var_os("XO_SDK_OVERLAY") {
        Some(o) => std::env::split_paths(&o)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => vec![
            root.join("dadl/xen-orchestra.errata.yaml"),
            root.join("dadl/xen-orchestra.sdk.yaml"),
        ],
    };
    let mut input = xo_codegen::Input::new(dadl);
    for o in overlays {
        input = input.with_overlay(o);
    }
    for file in input.files() {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("xo_api.rs");
    match xo_codegen::analyze(&input) {
        Ok(api) => {
            let source = xo_codegen::emit::emit(&api, xo_codegen::Target::InCrate);
            #[cfg_attr(not(feature = "conformance"), expect(unused_mut))]
            let mut outputs = vec![(out.clone(), source)];
            // A call of every operation, for the conformance tier's tests
            // only (the `conformance` feature, which they turn on).
            #[cfg(feature = "conformance")]
            outputs.push((
                out.with_file_name("xo_samples.rs"),
                xo_codegen::conformance_samples::emit_samples(
                    &api,
                    "::xo_sdk::Client",
                    "::xo_sdk::types",
                ),
            ));
            for (path, text) in outputs {
                if let Err(e) = std::fs::write(&path, text) {
                    println!("cargo::error=cannot write {}: {e}", path.display());
                    std::process::exit(1);
                }
            }
        }
        Err(e) => {
            // One line, the same text `xo-codegen check` prints.
            println!("cargo::error=xo-codegen: {e}");
            eprintln!("xo-codegen: {e}");
            std::process::exit(1);
        }
    }
}
