//! Typed model → IR, as a sequence of passes, one module each:
//!
//! 1. [`validate`]: the checks that produce nothing (spec version, backend
//!    name, default headers, tool names, then each tool's path, body and
//!    references);
//! 2. [`backend`]: base path, authentication, the default error policy;
//! 3. [`schema`]: DADL `types` → the type nodes of [`crate::ir::types`];
//! 4. [`resources`]: tools grouped by first path segment into modules;
//! 5. [`method_names`]: each tool's method on its resource's service;
//! 6. [`operations`]: each tool → one [`ir::Operation`], with its error
//!    policy and pagination ([`backend`]), `returns` type ([`schema`]) and
//!    typed kind ([`kinds`]).
//!
//! Every failure reports file, line:column, tool and field through
//! [`Loaded::error_at`]. A tool-level `errors`/`pagination`/`response`
//! object replaces the default as a whole (the DADL override rule).

use crate::error::Result;
use crate::ir;
use crate::load::Loaded;
use crate::yaml::pointer_token;

pub mod backend;
pub mod kinds;
pub mod method_names;
pub mod operations;
pub mod resources;
pub mod schema;
pub mod validate;

pub use validate::SUPPORTED_FEATURES;

/// Validate the loaded document and lower it to the IR.
pub fn lower(loaded: &Loaded) -> Result<ir::Api> {
    let b = &loaded.document.backend;
    validate::header(loaded)?;
    let (base_path, base_url_template) = backend::base_url(loaded)?;
    let auth = backend::auth(loaded, &b.auth)?;
    let defaults = b.defaults.clone().unwrap_or_default();
    let default_errors =
        backend::error_policy(loaded, "/backend/defaults/errors", defaults.errors.as_ref())?;
    validate::default_headers(loaded, &defaults)?;
    let warnings = validate::tools(loaded)?;
    let (types, type_names) = schema::lower_types(loaded)?;
    for (name, tool) in &b.tools {
        validate::tool(loaded, &defaults, name, tool)?;
    }

    let resources = resources::group(loaded)?;
    let method_names = method_names::assign(loaded, &resources)?;
    // Every tool is in exactly one resource: its module, in file order.
    let mut modules: Vec<(usize, &str)> = resources
        .iter()
        .flat_map(|r| r.operations.iter().map(move |&i| (i, r.module.as_str())))
        .collect();
    modules.sort_by_key(|(i, _)| *i);

    let cx = operations::Context {
        loaded,
        defaults: &defaults,
        default_errors: &default_errors,
        types: &types,
        type_names: &type_names,
    };
    let operations = b
        .tools
        .iter()
        .zip(modules.into_iter().zip(method_names))
        .map(|((name, tool), ((_, module), method_name))| {
            let names = operations::Names {
                module,
                method_name,
            };
            operations::lower(&cx, name, tool, names)
        })
        .collect::<Result<Vec<_>>>()?;

    Ok(ir::Api {
        name: b.name.clone(),
        version: b.version.clone(),
        description: b.description.clone(),
        base_path,
        base_url_template,
        auth,
        resources,
        operations,
        types,
        warnings,
    })
}

/// JSON pointer of a tool.
fn tool_ptr(tool: &str) -> String {
    format!("/backend/tools/{}", pointer_token(tool))
}

/// JSON pointer of a tool's parameter.
fn param_ptr(tool: &str, param: &str) -> String {
    format!("{}/params/{}", tool_ptr(tool), pointer_token(param))
}
