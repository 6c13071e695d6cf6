//! Pass: resources. Tools are grouped by the first segment of their path
//! (naming rule 1 of [`crate::naming`]); each group becomes a Rust module
//! with one service type.

use indexmap::IndexMap;

use crate::error::Result;
use crate::ir;
use crate::load::Loaded;
use crate::naming;

use super::tool_ptr;
use super::validate::unique;

/// The resources in order of first appearance, each with the indexes of
/// its tools (in file order). Fails when two segments become the same
/// Rust module.
pub fn group(loaded: &Loaded) -> Result<Vec<ir::Resource>> {
    let tools = &loaded.document.backend.tools;
    let mut by_segment: IndexMap<&str, Vec<usize>> = IndexMap::new();
    for (i, tool) in tools.values().enumerate() {
        by_segment
            .entry(naming::resource_segment(&tool.path))
            .or_default()
            .push(i);
    }
    // The pointer of a clash is the path of the resource's first tool.
    unique(
        loaded,
        "resources",
        by_segment.iter().map(|(segment, idxs)| {
            let (first, _) = tools.get_index(idxs[0]).expect("an index of a tool");
            (
                naming::module(or_root(segment)),
                *segment,
                format!("{}/path", tool_ptr(first)),
            )
        }),
    )?;
    Ok(by_segment
        .into_iter()
        .map(|(segment, operations)| ir::Resource {
            module: naming::module(or_root(segment)),
            service_type: naming::service(or_root(segment)),
            segment: segment.to_owned(),
            operations,
        })
        .collect())
}

/// Tools directly under the base path form the `root` resource.
fn or_root(segment: &str) -> &str {
    if segment.is_empty() { "root" } else { segment }
}
