//! Malformed DADL files fail with one message that names the file,
//! line:column, tool and field, the same through the library
//! (`xo_codegen::analyze`) and through the `xo-codegen check` binary.
//!
//! Fixtures live in `tests/fixtures/malformed/`; every file there must have
//! a row in [`EXPECTED`], and every row a file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One row per fixture: the start of the expected message, after the
/// fixture directory (`FILE:LINE:COL: tool `T`, field `F`: MESSAGE…`). The
/// fixture's file name is the text before the first `:`.
const EXPECTED: &[&str] = &[
    // YAML level: syntax and duplicate keys (the YAML parser allows them).
    "bad_yaml_syntax.dadl:17:13: tool `get_vm`, field `params.id`: invalid YAML: while parsing a flow mapping, did not find expected ',' or '}'",
    "duplicate_tool.dadl:21:5: tool `list_vms`, duplicate key `list_vms` (first at line 11)",
    "duplicate_param.dadl:18:9: tool `list_vms`, field `params.limit`: duplicate key `limit` (first at line 16)",
    // Model level: unknown keys, unknown enum values, missing keys.
    "unknown_top_level_key.dadl:2:1: field `licence`: unknown field `licence`, expected one of `spec`, ",
    "unknown_tool_key.dadl:14:7: tool `get_vm`, field `descripton`: unknown field `descripton`, expected one of `method`, ",
    "unknown_param_key.dadl:19:11: tool `list_vms`, field `params.limit.requred`: unknown field `requred`, expected one of `type`, `in`, `required`, `default`, `description`",
    "missing_method.dadl:11:5: tool `list_vms`, field `method`: missing field `method`",
    "unsupported_method.dadl:12:7: tool `trace_vms`, field `method`: unknown variant `TRACE`, expected one of `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`",
    "unsupported_param_type.dadl:17:11: tool `get_vm`, field `params.id.type`: unknown variant `uuid`, expected one of `string`, ",
    "unknown_param_in.dadl:16:34: tool `list_vms`, field `params.session.in`: unknown variant `cookie`, expected one of `path`, `query`, `header`, `body`",
    "unknown_auth_type.dadl:8:5: field `backend.auth.type`: unknown variant `kerberos`, expected one of `bearer`, ",
    "unknown_pagination_strategy.dadl:16:9: tool `list_vms`, field `pagination.strategy`: unknown variant `token`, expected one of `cursor`, `offset`, `page`, `link_header`",
    "unknown_default_pagination_strategy.dadl:12:7: field `backend.defaults.pagination.strategy`: unknown variant `keyset`, ",
    // Validation: spec, features, paths and params.
    "unsupported_spec_version.dadl:1:1: field `spec`: unsupported DADL spec `https://dadl.ai/spec/dadl-spec-v0.9.md` (v0.1 or v0.2 expected)",
    "unknown_required_feature.dadl:3:23: field `requires.features.1`: required feature `telepathy` is not implemented by xo-codegen",
    "undeclared_placeholder.dadl:13:7: tool `get_vm_disk`, field `path`: placeholder `{disk}` has no `in: path` param",
    "missing_path_param.dadl:16:29: tool `get_vm`, field `params.id.in`: param `id` fills the path placeholder `{id}` but is declared `in: query`",
    "path_param_without_placeholder.dadl:16:9: tool `list_vms`, field `params.pool`: `in: path` param `pool` has no `{pool}` placeholder in `/vms`",
    "malformed_placeholder.dadl:13:7: tool `get_vm`, field `path`: malformed placeholder `{}`",
    "body_param_on_get.dadl:16:32: tool `search_vms`, field `params.query.in`: GET requests cannot carry a body",
    "bad_errors_map_status.dadl:20:11: tool `get_vm`, field `errors.map.299`: `299` is not a 4xx/5xx status",
    "bad_replaced_by.dadl:16:7: tool `list_vms_old`, field `replaced_by`: `replaced_by` names unknown tool `list_vm`",
    // The typing extensions (dadl/EXTENSIONS.md).
    "collection_without_ndjson.dadl:17:7: tool `list_vms`, field `x-kind`: a collection needs an optional query parameter `ndjson`",
    "x_type_unknown.dadl:16:55: tool `get_vm`, field `params.id.x-type`: unknown type `VmId` (not in `backend.types`)",
    "x_method_not_an_identifier.dadl:15:7: tool `get_vm`, field `x-method`: `x-method` must be a snake_case Rust identifier that no service already has, not `Fetch-VM`",
    "x_event_type_malformed.dadl:18:7: tool `list_vms`, field `x-event-type`: `x-event-type` must be a non-empty name of ASCII letters, digits, `-` and `_`, not \"VM type\"",
    "x_event_type_not_collection.dadl:18:7: tool `get_vm`, field `x-event-type`: `x-event-type` applies to a tool with `x-kind: collection` only",
    "x_method_clash.dadl:21:7: tool `fetch_vm`, field `x-method`: `x-method` `get` is also the name of another method of resource `vms`",
    // Found by fuzzing (fuzz/artifacts/dadl_load): a stack overflow before.
    "properties_not_a_mapping.dadl:10:7: field `backend.types.Other.properties`: `properties` must be a mapping of property names to schemas, found nothing (null)",
    "href_not_an_id.dadl:11:61: field `backend.types.Vm.properties.href.x-href`: `x-href` must name an id type (`x-id`), found `\"Vm\"`",
    // Names that collide once turned into Rust.
    "colliding_tool_names.dadl:15:5: tool `list-vms`, tools `list-vms` and `list_vms` (line 11) both become `ListVms` in Rust; rename one",
    "colliding_param_names.dadl:17:9: tool `list_vms`, field `params.VM`: params `VM` and `vm` (line 16) both become `vm` in Rust; rename one",
    "alias_cycle.dadl:8:5: field `backend.types.A`: type `A` is an alias of itself (through A → B)",
    "colliding_resources.dadl:17:7: tool `list_old_snapshots`, field `path`: resources `vm_snapshots` and `vm-snapshots` (line 13) both become `vm_snapshots` in Rust; rename one",
    "colliding_param_names_same_place.dadl:17:9: tool `list_vms`, field `params.pool_id`: params `pool_id` and `pool-id` (line 16) both become `pool_id` in Rust; rename one",
    // Bodies and base URLs beyond JSON (DADL v0.1 constructs with limits).
    "base_url_variable_in_query.dadl:5:3: field `backend.base_url`: a base URL with variables cannot have a query or fragment",
    "text_body_two_params.dadl:19:33: tool `set_note`, field `params.author.in`: with content type `text/plain`, the body is the text of one `in: body` param; this is a second one",
    "text_body_object_param.dadl:18:16: tool `set_note`, field `params.doc.type`: with content type `application/xml`, the body is the text of its `in: body` param, which must be a string, number, integer or boolean",
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/malformed")
}

fn file_of(expected: &str) -> &str {
    expected.split(':').next().expect("split yields one item")
}

/// The message of `analyze` on a fixture, with the directory prefix removed.
fn analyze_message(file: &str) -> (String, xo_codegen::Error) {
    let path = fixture_dir().join(file);
    let err = match xo_codegen::analyze(&xo_codegen::Input::new(&path)) {
        Ok(api) => panic!(
            "{file}: accepted ({} tools), expected an error",
            api.operations.len()
        ),
        Err(e) => e,
    };
    let full = err.to_string();
    let prefix = format!("{}/", fixture_dir().display());
    let rest = full
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{file}: message does not start with the file path: {full}"));
    (rest.to_owned(), err)
}

#[test]
fn every_fixture_has_a_row_and_every_row_a_fixture() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".dadl"))
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = EXPECTED.iter().map(|e| file_of(e).to_owned()).collect();
    in_table.sort();
    let before = in_table.len();
    in_table.dedup();
    assert_eq!(before, in_table.len(), "a fixture has two rows");
    assert_eq!(on_disk, in_table);
    assert!(on_disk.len() >= 15, "only {} fixtures", on_disk.len());
}

#[test]
fn library_errors_name_file_position_tool_and_field() {
    let mut failures = Vec::new();
    for expected in EXPECTED {
        let file = file_of(expected);
        let (message, err) = analyze_message(file);
        if !message.starts_with(expected) {
            failures.push(format!(
                "{file}:\n  expected: {expected}\n  got:      {message}"
            ));
        }
        // Every fixture's problem has a position, not just a file name.
        let location = err.details().location.as_ref();
        assert!(
            location.is_some_and(|l| l.file.ends_with(file)),
            "{file}: no position in {err:?}"
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn cli_check_prints_the_same_message_and_fails() {
    let bin = env!("CARGO_BIN_EXE_xo-codegen");
    for expected in EXPECTED {
        let file = file_of(expected);
        let path = fixture_dir().join(file);
        let out = Command::new(bin)
            .arg("check")
            .arg(&path)
            .output()
            .expect("run xo-codegen");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let (_, err) = analyze_message(file);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: stdout not empty");
        assert_eq!(stderr, format!("error: {err}\n"), "{file}");
        assert!(stderr.contains(expected), "{file}: {stderr}");
    }
}
