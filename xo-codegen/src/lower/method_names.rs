//! Pass: method names. Each tool becomes a method of its resource's
//! service, named by its `x-method` or by stripping the resource noun from
//! the tool name (naming rule 6 of [`crate::naming`]); on a clash inside a
//! resource every tool involved falls back to its whole name.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::ir;
use crate::load::Loaded;
use crate::naming;

use super::tool_ptr;

/// The method name of every tool, in file order. Fails on an invalid or
/// clashing `x-method`, and when a tool's builder type would have the name
/// of its service type.
pub fn assign(loaded: &Loaded, resources: &[ir::Resource]) -> Result<Vec<String>> {
    let mut names: Vec<(usize, String)> = Vec::with_capacity(loaded.document.backend.tools.len());
    for resource in resources {
        let names_here = of_resource(loaded, resource)?;
        names.extend(resource.operations.iter().copied().zip(names_here));
        for &i in &resource.operations {
            let (tool, _) = tool_at(loaded, i);
            if naming::pascal(tool) == resource.service_type {
                return Err(loaded.error_at(
                    &tool_ptr(tool),
                    format!(
                        "tool `{tool}` and resource `{}` both become the Rust type `{}`; rename the tool",
                        resource.segment, resource.service_type
                    ),
                ));
            }
        }
    }
    // Every tool is in exactly one resource: back to file order.
    names.sort_by_key(|(i, _)| *i);
    Ok(names.into_iter().map(|(_, name)| name).collect())
}

/// The method names of one resource's tools, in its order.
fn of_resource(loaded: &Loaded, resource: &ir::Resource) -> Result<Vec<String>> {
    let seg = &resource.segment;
    let mut proposed = Vec::with_capacity(resource.operations.len());
    for &i in &resource.operations {
        let (tool, t) = tool_at(loaded, i);
        proposed.push(match &t.x_method {
            Some(m) => explicit_method_name(loaded, tool, m)?,
            None => naming::method_name(tool, seg)
                .filter(|m| !naming::SERVICE_MEMBERS.contains(&m.as_str()))
                .unwrap_or_else(|| whole_method_name(tool)),
        });
    }
    loop {
        let clashing = clashing(&proposed);
        if clashing.is_empty() {
            return Ok(proposed);
        }
        let mut changed = false;
        for (k, &i) in resource.operations.iter().enumerate() {
            if !clashing.contains(&proposed[k]) {
                continue;
            }
            let (tool, t) = tool_at(loaded, i);
            if t.x_method.is_some() {
                return Err(loaded.error_at(
                    &format!("{}/x-method", tool_ptr(tool)),
                    format!(
                        "`x-method` `{}` is also the name of another method of resource `{seg}`",
                        proposed[k]
                    ),
                ));
            }
            let full = whole_method_name(tool);
            if proposed[k] != full {
                proposed[k] = full;
                changed = true;
            }
        }
        if !changed {
            // Two tools with the same snake name: already rejected by
            // validation through their Pascal names; keep this loop total
            // anyway.
            return Err(Error::new(format!(
                "method names in resource `{seg}` cannot be made unique"
            )));
        }
    }
}

/// The names proposed more than once.
fn clashing(proposed: &[String]) -> HashSet<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for p in proposed {
        *count.entry(p.as_str()).or_default() += 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(p, _)| p.to_owned())
        .collect()
}

fn tool_at(loaded: &Loaded, i: usize) -> (&str, &crate::model::Tool) {
    let (name, tool) = loaded
        .document
        .backend
        .tools
        .get_index(i)
        .expect("resources index the file's tools");
    (name.as_str(), tool)
}

/// The method name a tool declares with `x-method`: a snake-case Rust
/// identifier that is neither a keyword nor a member every service has.
fn explicit_method_name(loaded: &Loaded, tool: &str, name: &str) -> Result<String> {
    let snake_ident = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake_ident || naming::is_keyword(name) || naming::SERVICE_MEMBERS.contains(&name) {
        return Err(loaded.error_at(
            &format!("{}/x-method", tool_ptr(tool)),
            format!(
                "`x-method` must be a snake_case Rust identifier that no service already has, not `{name}`"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// A tool's whole snake-case name as a service method (the fallback of
/// naming rule 6), with a trailing `_` when even that is a method every
/// service has: a tool `new` would clash with the service's constructor,
/// `clone` would shadow `Clone::clone`.
fn whole_method_name(tool: &str) -> String {
    let mut m = naming::snake(tool);
    if naming::SERVICE_MEMBERS.contains(&m.as_str()) {
        m.push('_');
    }
    m
}
