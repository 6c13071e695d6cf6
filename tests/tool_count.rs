//! The generated client has exactly one operation per DADL tool: counted
//! independently from the YAML text, from the generator's IR, and from the
//! compiled crate's `OPERATIONS` table.

use std::collections::BTreeSet;
use std::path::Path;

use xo_codegen::Input;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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

fn overlay_added_tools(base: &BTreeSet<String>) -> BTreeSet<String> {
    let overlay =
        xo_codegen::yaml::parse_file(&root().join("dadl/xen-orchestra.errata.yaml")).unwrap();
    overlay.value["backend"]["tools"]
        .as_object()
        .map(|tools| {
            tools
                .iter()
                .filter(|(name, v)| !v.is_null() && !base.contains(*name))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compiled_crate_has_one_operation_per_tool() {
    let dadl = root().join("dadl/xen-orchestra.dadl");
    let base = yaml_tool_names(&dadl);
    assert_eq!(base.len(), 267, "the vendored XO 6.7 file has 267 tools");
    let expected: BTreeSet<String> = base.union(&overlay_added_tools(&base)).cloned().collect();
    let compiled: BTreeSet<String> = xo_sdk::OPERATIONS
        .iter()
        .map(|op| op.tool.to_owned())
        .collect();
    assert_eq!(xo_sdk::OPERATIONS.len(), compiled.len(), "no tool twice");
    assert_eq!(compiled, expected);
}

#[test]
fn ir_has_one_operation_per_tool_for_both_xo_files() {
    for (file, n) in [
        ("dadl/xen-orchestra.dadl", 267),
        ("dadl/fixtures/xen-orchestra-6.4.dadl", 229),
    ] {
        let path = root().join(file);
        let names = yaml_tool_names(&path);
        assert_eq!(names.len(), n, "{file}");
        let api = xo_codegen::analyze(&Input::new(&path)).unwrap();
        let ops: BTreeSet<String> = api.operations.iter().map(|o| o.tool.clone()).collect();
        assert_eq!(ops, names, "{file}");
        let source = xo_codegen::emit::emit(&api, xo_codegen::Target::InCrate);
        let specs = source
            .matches("::xo_sdk::runtime::OperationSpec = ")
            .count();
        assert_eq!(specs, n, "{file}: one generated spec table per tool");
        assert_eq!(
            xo_codegen::tool_lines(&api).len(),
            n,
            "{file}: one `tools` line per tool"
        );
    }
}
