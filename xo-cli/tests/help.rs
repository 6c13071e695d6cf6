//! `--help` of every command: each operation of the IR (the same the
//! build script generates from) is a command `xo RESOURCE OPERATION`, its
//! help exits 0 and shows the DADL description; so do the resources and
//! the extra commands.

use std::path::PathBuf;
use std::process::{Command, Output};

fn xo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xo"))
        .args(args)
        .env_remove("XO_URL")
        .env_remove("XO_TOKEN")
        .output()
        .expect("run xo")
}

/// Whitespace-insensitive: clap wraps long lines.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn api() -> xo_codegen::ir::Api {
    let dadl = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dadl");
    let input = xo_codegen::Input::new(dadl.join("xen-orchestra.dadl"))
        .with_overlay(dadl.join("xen-orchestra.errata.yaml"))
        .with_overlay(dadl.join("xen-orchestra.sdk.yaml"));
    xo_codegen::analyze(&input).expect("the DADL file is valid")
}

#[test]
fn every_operation_has_a_command_whose_help_shows_its_description() {
    let api = api();
    let mut lines = 0;
    for op in &api.operations {
        let resource = &api
            .resources
            .iter()
            .find(|r| r.module == op.module)
            .unwrap()
            .segment;
        let name = xo_codegen::cli::kebab(&op.method_name);
        let out = xo(&[resource, &name, "--help"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "xo {resource} {name} --help: {out:?}");
        let description = squash(op.description.trim());
        assert!(
            squash(&stdout).contains(&description),
            "xo {resource} {name} --help lacks the description {description:?}:\n{stdout}"
        );
        assert!(stdout.contains(&op.tool), "the DADL tool name, {}", op.tool);
        // The short help (-h) exits 0 too.
        assert!(xo(&[resource, &name, "-h"]).status.success());
        lines += stdout.lines().count();
    }
    assert_eq!(api.operations.len(), 267, "the XO DADL's operation count");
    eprintln!(
        "{} operations, {lines} lines of --help",
        api.operations.len()
    );
}

#[test]
fn every_resource_lists_its_operations() {
    let api = api();
    let top = String::from_utf8_lossy(&xo(&["--help"]).stdout).into_owned();
    for r in &api.resources {
        assert!(top.contains(&r.segment), "xo --help lists {}", r.segment);
        let out = xo(&[&r.segment, "--help"]);
        assert!(out.status.success(), "xo {} --help", r.segment);
        let text = String::from_utf8_lossy(&out.stdout);
        for &i in &r.operations {
            let name = xo_codegen::cli::kebab(&api.operations[i].method_name);
            assert!(text.contains(&name), "xo {} --help lists {name}", r.segment);
        }
    }
}

#[test]
fn top_level_help_documents_exit_codes_and_configuration() {
    let out = xo(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Exit status:",
        "0  success",
        "2  usage",
        "3  configuration",
        "XO_TOKEN",
        "config.toml",
        "--profile",
    ] {
        assert!(text.contains(needle), "{needle} in xo --help:\n{text}");
    }
    for extra in [
        &["tasks", "wait", "--help"][..],
        &["events", "watch", "--help"],
        &["completions", "--help"],
        &["profiles", "--help"],
    ] {
        assert!(xo(extra).status.success(), "xo {extra:?}");
    }
}

#[test]
fn no_command_is_a_usage_error() {
    assert_eq!(xo(&[]).status.code(), Some(2));
    assert_eq!(xo(&["vms"]).status.code(), Some(2));
    assert_eq!(xo(&["vms", "launch"]).status.code(), Some(2));
    assert_eq!(xo(&["--version"]).status.code(), Some(0));
}
