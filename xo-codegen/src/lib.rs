//! `xo-codegen`: DADL API description → typed Rust client source.
//!
//! The pipeline, one module per step:
//! [`yaml`] (YAML with source positions) → [`load`] (includes, overlays as
//! JSON Merge Patch, typed [`model`]) → [`lower`] (validation, then one pass
//! each for types, resources, method names and operations, producing the
//! [`ir`]) → [`emit`] (Rust tokens, formatted by prettyplease; rustdoc text
//! from [`docs`]). [`standalone_crate`] wraps the output in a crate of its
//! own for the CLI.
//! It knows DADL, not Xen Orchestra: any valid DADL file generates code that
//! compiles against `xo_sdk::runtime`.
#![deny(missing_docs)]

pub mod cli;
#[cfg(feature = "testing")]
pub mod conformance_samples;
pub mod docs;
pub mod emit;
pub mod error;
pub mod ir;
pub mod load;
pub mod lower;
pub mod model;
pub mod naming;
pub mod standalone_crate;
pub mod yaml;

/// The IR's type nodes under their former path, which the workspace's
/// tests name (`xo_codegen::types::TypeRef`).
pub use ir::types;

pub use emit::Target;
pub use error::{Error, Location, Result};
pub use load::Input;

/// Load, validate and lower a DADL file (plus overlay) to the IR.
pub fn analyze(input: &Input) -> Result<ir::Api> {
    let loaded = load::load(input)?;
    lower::lower(&loaded)
}

/// Generate the Rust source for a DADL file (plus overlay).
pub fn generate(input: &Input, target: Target) -> Result<String> {
    Ok(emit::emit(&analyze(input)?, target))
}

/// One line per tool: `tool METHOD path rust::path`, as `xo-codegen tools`
/// prints it.
pub fn tool_lines(api: &ir::Api) -> Vec<String> {
    api.operations
        .iter()
        .map(|op| {
            let service = &api
                .resources
                .iter()
                .find(|r| r.module == op.module)
                .map(|r| r.module.clone())
                .unwrap_or_default();
            format!(
                "{}\t{}\t{}\tclient.{}().{}()",
                op.tool, op.http_method, op.path, service, op.method_name
            )
        })
        .collect()
}

/// `typed: N/M operations`, then one line per operation whose `send()`
/// answers untyped JSON, with the reason the description gives (the
/// `description` of its `returns`), as `xo-codegen check` prints them.
pub fn typed_lines(api: &ir::Api) -> Vec<String> {
    let untyped: Vec<&ir::Operation> = api
        .operations
        .iter()
        .filter(|op| !op.kind.is_typed(op.result.as_ref(), &op.response))
        .collect();
    let mut lines = vec![format!(
        "typed: {}/{} operations",
        api.operations.len() - untyped.len(),
        api.operations.len()
    )];
    for op in untyped {
        let reason = op
            .returns
            .as_ref()
            .and_then(|r| r.get("description"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("no `returns` declared");
        lines.push(format!("  untyped {}: {reason}", op.tool));
    }
    lines
}
