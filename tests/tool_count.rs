//! The generated client has exactly one operation per DADL tool: counted
//! independently from the YAML text (the DADL file and its two overlays,
//! merged as the loader documents it), from the generator's IR, and from
//! the compiled crate's `OPERATIONS` table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use xo_codegen::Input;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The overlays of the build, in order: our errata, then the SDK's typing
/// declarations.
fn overlays() -> [PathBuf; 2] {
    [
        root().join("dadl/xen-orchestra.errata.yaml"),
        root().join("dadl/xen-orchestra.sdk.yaml"),
    ]
}

/// Tool names read from the raw YAML (`backend.tools` keys), without the
/// generator's model or validation.
fn yaml_tool_names(file: &Path) -> BTreeSet<String> {
    let doc = xo_codegen::yaml::parse_file(file).unwrap();
    doc.value["backend"]["tools"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// The tools after applying `overlay` to `tools`, from the overlay's YAML
/// text: `null` removes a tool (JSON Merge Patch), an absent tool defined
/// whole (with a `method`) is added, and a patch of an absent tool that
/// does not define it (only `x-kind`, `returns`, `x-type`, hints, …) is
/// dropped, as the loader does for one overlay serving several releases.
/// Returns the tools and the names of the dropped patches.
fn apply_overlay(tools: &BTreeSet<String>, overlay: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let doc = xo_codegen::yaml::parse_file(overlay).unwrap();
    let mut out = tools.clone();
    let mut dropped = BTreeSet::new();
    if let Some(patches) = doc.value["backend"]["tools"].as_object() {
        for (name, patch) in patches {
            if patch.is_null() {
                out.remove(name);
            } else if !tools.contains(name) {
                if patch.get("method").is_some() {
                    out.insert(name.clone());
                } else {
                    dropped.insert(name.clone());
                }
            }
        }
    }
    (out, dropped)
}

/// The tools of `file` after both overlays.
fn expected_tools(file: &Path) -> BTreeSet<String> {
    overlays()
        .iter()
        .fold(yaml_tool_names(file), |tools, o| apply_overlay(&tools, o).0)
}

fn analyze_with_overlays(file: &Path) -> xo_codegen::ir::Api {
    let input = overlays()
        .into_iter()
        .fold(Input::new(file), |input, o| input.with_overlay(o));
    xo_codegen::analyze(&input).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn overlays_add_and_drop_what_they_should() {
    let [errata, sdk] = overlays();
    // The errata merge the per-format transfer tools into one tool per XO
    // operation (export_vm, export_vdi, import_vdi) and add the tools the
    // upstream file lacks.
    let merged = [
        "export_vm_xva",
        "export_vm_ova",
        "export_vdi_vhd",
        "export_vdi_raw",
        "import_vdi_to_existing",
        "import_vdi_to_existing_raw",
    ];
    for (file, base_n, added_by_errata) in [
        ("dadl/xen-orchestra.dadl", 267, 6),
        ("dadl/fixtures/xen-orchestra-6.4.dadl", 229, 12),
    ] {
        let base = yaml_tool_names(&root().join(file));
        assert_eq!(base.len(), base_n, "{file}");
        let (after_errata, _) = apply_overlay(&base, &errata);
        let added = after_errata.difference(&base).count();
        let removed: Vec<&String> = base.difference(&after_errata).collect();
        assert_eq!(added, added_by_errata, "{file}: tools the errata define");
        assert_eq!(
            removed,
            {
                let mut m = merged.to_vec();
                m.sort_unstable();
                m
            },
            "{file}: tools the errata merge"
        );
        for tool in ["export_vm", "export_vdi", "import_vdi"] {
            assert!(after_errata.contains(tool), "{file}: {tool}");
        }
        // The SDK overlay only types tools: it adds and removes none.
        let (after_sdk, dropped) = apply_overlay(&after_errata, &sdk);
        assert_eq!(
            after_sdk, after_errata,
            "{file}: the SDK overlay adds no tool"
        );
        assert!(
            dropped.is_disjoint(&after_errata),
            "{file}: only patches of absent tools are dropped"
        );
        if file.ends_with("6.4.dadl") {
            // Tools XO added after 6.4 that the SDK overlay types.
            assert!(dropped.contains("list_vm_controllers"), "{dropped:?}");
        } else {
            assert!(dropped.is_empty(), "{file}: {dropped:?}");
        }
    }
}

#[test]
fn compiled_crate_has_one_operation_per_tool() {
    let dadl = root().join("dadl/xen-orchestra.dadl");
    assert_eq!(
        yaml_tool_names(&dadl).len(),
        267,
        "the vendored XO 6.7 file has 267 tools"
    );
    let expected = expected_tools(&dadl);
    assert_eq!(
        expected.len(),
        267,
        "267 tools, 6 per-format tools merged into 3, 3 from the errata"
    );
    let compiled: BTreeSet<String> = xo_sdk::OPERATIONS
        .iter()
        .map(|op| op.tool.to_owned())
        .collect();
    assert_eq!(xo_sdk::OPERATIONS.len(), compiled.len(), "no tool twice");
    assert_eq!(compiled, expected);
}

/// The IR and the generated source of a DADL file, without overlays and
/// with both, have one operation per tool.
fn check_ir(file: &str, bare: usize, with_overlays: usize) {
    let path = root().join(file);
    let names = yaml_tool_names(&path);
    assert_eq!(names.len(), bare, "{file}");
    let expected = expected_tools(&path);
    assert_eq!(expected.len(), with_overlays, "{file} with the overlays");
    for (api, tools, what) in [
        (
            xo_codegen::analyze(&Input::new(&path)).unwrap(),
            names,
            "bare",
        ),
        (analyze_with_overlays(&path), expected, "with the overlays"),
    ] {
        let n = tools.len();
        let ops: BTreeSet<String> = api.operations.iter().map(|o| o.tool.clone()).collect();
        assert_eq!(api.operations.len(), n, "{file} {what}: no tool twice");
        assert_eq!(ops, tools, "{file} {what}");
        let source = xo_codegen::emit::emit(&api, xo_codegen::Target::InCrate);
        let specs = source
            .matches("::xo_sdk::runtime::OperationSpec = ")
            .count();
        assert_eq!(specs, n, "{file} {what}: one generated spec table per tool");
        assert_eq!(
            xo_codegen::tool_lines(&api).len(),
            n,
            "{file} {what}: one `tools` line per tool"
        );
    }
}

#[test]
fn ir_has_one_operation_per_tool_for_xo_6_7() {
    check_ir("dadl/xen-orchestra.dadl", 267, 267);
}

/// The overlays serve the XO 6.4 file too (`scripts/conformance.sh` builds
/// its IR with both).
#[test]
fn ir_has_one_operation_per_tool_for_xo_6_4() {
    check_ir("dadl/fixtures/xen-orchestra-6.4.dadl", 229, 235);
}
