//! `xo-codegen`: DADL API description → typed Rust client source.
//!
//! The pipeline, one module per step:
//! [`yaml`] (YAML with source positions) → [`load`] (includes, errata overlay
//! as JSON Merge Patch, typed [`model`]) → [`lower`] (validation and naming,
//! producing the [`ir`]) → [`emit`] (Rust tokens, formatted by prettyplease).
//! It knows DADL, not Xen Orchestra: any valid DADL file generates code that
//! compiles against `xo_sdk::runtime`.
#![deny(missing_docs)]

pub mod docs;
pub mod emit;
pub mod error;
pub mod ir;
pub mod load;
pub mod lower;
pub mod model;
pub mod naming;
pub mod samples;
pub mod scratch;
pub mod types;
pub mod yaml;

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
