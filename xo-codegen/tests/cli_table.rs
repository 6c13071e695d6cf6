//! The command table of `xo` (`xo_codegen::cli`): one entry per operation,
//! valid Rust, deterministic, for any DADL file; the naming and argument
//! rules on the XO file.

use std::path::{Path, PathBuf};

use xo_codegen::Input;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn xo_api() -> xo_codegen::ir::Api {
    let dadl = root().join("dadl");
    let input = Input::new(dadl.join("xen-orchestra.dadl"))
        .with_overlay(dadl.join("xen-orchestra.errata.yaml"))
        .with_overlay(dadl.join("xen-orchestra.sdk.yaml"));
    xo_codegen::analyze(&input).expect("the XO DADL is valid")
}

/// The source of the `Param` entry of `wire` in the operation `tool`.
fn param_entry<'a>(table: &'a str, tool: &str, wire: &str) -> &'a str {
    let op = &table[table.find(&format!("tool: \"{tool}\"")).expect("the tool")..];
    let op = &op[..op.find("Operation {").unwrap_or(op.len())];
    let at = op
        .find(&format!("wire: \"{wire}\""))
        .expect("the parameter");
    &op[at..at + op[at..].find('}').expect("end of the entry")]
}

#[test]
fn every_operation_of_the_xo_file_is_in_the_table() {
    let api = xo_api();
    let table = xo_codegen::cli::emit_cli_table(&api, "::xo_sdk");
    syn::parse_file(&table).expect("the table is valid Rust");
    assert_eq!(
        table,
        xo_codegen::cli::emit_cli_table(&api, "::xo_sdk"),
        "deterministic"
    );
    assert_eq!(table.matches("Operation {").count(), api.operations.len());
    for op in &api.operations {
        assert!(
            table.contains(&format!("tool: \"{}\"", op.tool)),
            "{}",
            op.tool
        );
        let spec = format!("spec: &::xo_sdk::{}::{},", op.module, op.spec_name);
        assert!(table.contains(&spec), "{spec}");
    }
}

#[test]
fn ids_are_positional_and_choices_are_flags() {
    let table = xo_codegen::cli::emit_cli_table(&xo_api(), "::xo_sdk");
    let uuid = param_entry(&table, "export_vm", "uuid");
    assert!(
        uuid.contains("Value::Id(\"VmId\")") && uuid.contains("positional: true"),
        "{uuid}"
    );
    let format = param_entry(&table, "export_vm", "format");
    assert!(
        format.contains("Value::Enum(&[\"xva\", \"ova\"])"),
        "{format}"
    );
    assert!(format.contains("positional: false"), "{format}");
    let auto = param_entry(&table, "disable_host", "autoEnable");
    assert!(
        auto.contains("flag: \"auto-enable\"") && auto.contains("Value::Boolean"),
        "{auto}"
    );
    // The parameters the CLI sets itself are not arguments.
    let start = &table[table.find("tool: \"start_vm\"").unwrap()..];
    let start = &start[..start.find("Operation {").unwrap()];
    assert!(!start.contains("wire: \"sync\""));
    // The raw body of an import is a positional file.
    let import = param_entry(&table, "import_vdi", "");
    assert!(
        import.contains("Value::File") && import.contains("positional: true"),
        "{import}"
    );
}

#[test]
fn no_parameter_takes_a_flag_of_the_cli() {
    let table = xo_codegen::cli::emit_cli_table(&xo_api(), "::xo_sdk");
    for flag in xo_codegen::cli::RESERVED_FLAGS {
        assert!(!table.contains(&format!("flag: \"{flag}\"")), "--{flag}");
    }
}

#[test]
fn any_dadl_file_gives_a_table() {
    let input =
        Input::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden/small.dadl"));
    let api = xo_codegen::analyze(&input).expect("small.dadl is valid");
    let table = xo_codegen::cli::emit_cli_table(&api, "::small_api");
    syn::parse_file(&table).expect("valid Rust");
    assert_eq!(table.matches("Operation {").count(), api.operations.len());
    assert!(table.contains("spec: &::small_api::"));
}
