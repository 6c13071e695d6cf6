//! Generates the command table of `xo` into `OUT_DIR/xo_cli_table.rs` from
//! the same DADL file and overlays as the SDK's build script, so that every
//! operation the SDK has is a command.
//!
//! The inputs are `dadl/` of this crate: a link to the workspace's
//! `dadl/` in the repository, the files themselves in the published
//! package (cargo copies what the link points to). `XO_SDK_DADL` and
//! `XO_SDK_OVERLAY` replace them as for xo-sdk.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=XO_SDK_DADL");
    println!("cargo:rerun-if-env-changed=XO_SDK_OVERLAY");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dadl_dir = manifest.join("dadl");
    let dadl = std::env::var_os("XO_SDK_DADL")
        .map(PathBuf::from)
        .unwrap_or_else(|| dadl_dir.join("xen-orchestra.dadl"));
    let overlays: Vec<PathBuf> = match std::env::var_os("XO_SDK_OVERLAY") {
        Some(o) => std::env::split_paths(&o)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => vec![
            dadl_dir.join("xen-orchestra.errata.yaml"),
            dadl_dir.join("xen-orchestra.sdk.yaml"),
        ],
    };
    let mut input = xo_codegen::Input::new(dadl);
    for o in overlays {
        input = input.with_overlay(o);
    }
    for file in input.files() {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("xo_cli_table.rs");
    match xo_codegen::analyze(&input) {
        Ok(api) => {
            let source = xo_codegen::cli::emit_cli_table(&api, "::xo_sdk");
            if let Err(e) = std::fs::write(&out, source) {
                println!("cargo::error=cannot write {}: {e}", out.display());
                std::process::exit(1);
            }
        }
        Err(e) => {
            println!("cargo::error=xo-codegen: {e}");
            eprintln!("xo-codegen: {e}");
            std::process::exit(1);
        }
    }
}
