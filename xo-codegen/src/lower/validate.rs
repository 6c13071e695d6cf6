//! Pass: validation. The checks of a DADL document that produce nothing,
//! run before any lowering so that the lowering passes can rely on a
//! well-formed document (paths, placeholders, body placement, references
//! between tools, header names).
//!
//! Every failure names file, line:column, tool and field through
//! [`Loaded::error_at`].

use std::collections::HashMap;

use crate::error::Result;
use crate::load::Loaded;
use crate::model::{self, Defaults, ParamIn, Tool};
use crate::naming;
use crate::yaml::pointer_token;

use super::operations::{BodyType, body_type};
use super::{param_ptr, tool_ptr};

/// v0.2 features this generator implements (`requires.features` fails
/// closed on anything else).
pub const SUPPORTED_FEATURES: &[&str] =
    &["returns", "idempotency", "deprecation", "semantic_errors"];

/// The spec version, the required features and the backend name.
pub fn header(loaded: &Loaded) -> Result<()> {
    let doc = &loaded.document;
    let spec_ok = doc
        .spec
        .strip_prefix("https://dadl.ai/spec/dadl-spec-v0.")
        .is_some_and(|r| matches!(r, "1" | "2" | "1.md" | "2.md"));
    if !spec_ok {
        return Err(loaded.error_at(
            "/spec",
            format!(
                "unsupported DADL spec `{}` (v0.1 or v0.2 expected)",
                doc.spec
            ),
        ));
    }
    if let Some(req) = &doc.requires {
        for (i, f) in req.features.iter().enumerate() {
            if !SUPPORTED_FEATURES.contains(&f.as_str()) {
                return Err(loaded.error_at(
                    &format!("/requires/features/{i}"),
                    format!(
                        "required feature `{f}` is not implemented by xo-codegen (supported: {})",
                        SUPPORTED_FEATURES.join(", ")
                    ),
                ));
            }
        }
    }
    let name = &doc.backend.name;
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(loaded.error_at(
            "/backend/name",
            format!("backend name `{name}` is not a slug (lowercase letters, digits, `-`)"),
        ));
    }
    Ok(())
}

/// `defaults.headers`: names a header can have, values without line breaks.
pub fn default_headers(loaded: &Loaded, defaults: &Defaults) -> Result<()> {
    for (name, value) in &defaults.headers {
        if value.contains(['\r', '\n']) || has_non_header_char(name) {
            return Err(loaded.error_at(
                &format!("/backend/defaults/headers/{}", pointer_token(name)),
                "invalid header",
            ));
        }
    }
    Ok(())
}

/// Tool names that stay distinct in Rust, and a `health.tool` that exists.
/// Returns the warnings: hints for tools the file does not have (upstream
/// files carry hints for tools they have since dropped, as the XO 6.4 file
/// does, so this must not stop a file from loading).
pub fn tools(loaded: &Loaded) -> Result<Vec<String>> {
    let b = &loaded.document.backend;
    unique(
        loaded,
        "tools",
        b.tools
            .keys()
            .map(|t| (naming::pascal(t), t.as_str(), tool_ptr(t))),
    )?;
    let warnings = b
        .hints
        .keys()
        .filter(|tool| !b.tools.contains_key(*tool))
        .map(|tool| {
            loaded
                .error_at(
                    &format!("/backend/hints/{}", pointer_token(tool)),
                    format!("hints for unknown tool `{tool}` are ignored"),
                )
                .to_string()
        })
        .collect();
    if let Some(t) = b.health.as_ref().and_then(|h| h.tool.as_ref()) {
        if !b.tools.contains_key(t) {
            return Err(loaded.error_at("/backend/health/tool", format!("unknown tool `{t}`")));
        }
    }
    Ok(warnings)
}

/// One tool: its path and placeholders, where its body goes, the tools it
/// names and its header parameters.
pub fn tool(loaded: &Loaded, defaults: &Defaults, name: &str, tool: &Tool) -> Result<()> {
    path(loaded, name, tool)?;
    body(loaded, defaults, name, tool)?;
    references(loaded, name, tool)?;
    for (pname, p) in &tool.params {
        if p.location == ParamIn::Header && (pname.is_empty() || has_non_header_char(pname)) {
            return Err(loaded.error_at(
                &param_ptr(name, pname),
                format!("`{pname}` is not a valid header name"),
            ));
        }
    }
    Ok(())
}

/// The path template: absolute, no query or fragment, and its placeholders
/// and `in: path` params in one-to-one correspondence.
fn path(loaded: &Loaded, name: &str, tool: &Tool) -> Result<()> {
    let at = format!("{}/path", tool_ptr(name));
    if !tool.path.starts_with('/') {
        return Err(loaded.error_at(&at, format!("path `{}` must start with `/`", tool.path)));
    }
    if tool.path.contains(['?', '#']) || tool.path.contains(char::is_whitespace) {
        return Err(loaded.error_at(
            &at,
            "a path cannot contain `?`, `#` or whitespace; declare query params with `in: query`",
        ));
    }
    let holes = placeholders(&tool.path).map_err(|m| loaded.error_at(&at, m))?;
    for h in &holes {
        match tool.params.get(h) {
            None => {
                return Err(loaded.error_at(
                    &at,
                    format!("placeholder `{{{h}}}` has no `in: path` param"),
                ));
            }
            Some(p) if p.location != ParamIn::Path => {
                return Err(loaded.error_at(
                    &format!("{}/in", param_ptr(name, h)),
                    format!(
                        "param `{h}` fills the path placeholder `{{{h}}}` but is declared `in: {}`",
                        in_name(p.location)
                    ),
                ));
            }
            _ => {}
        }
    }
    for (pname, p) in &tool.params {
        if p.location == ParamIn::Path && !holes.contains(pname) {
            return Err(loaded.error_at(
                &param_ptr(name, pname),
                format!(
                    "`in: path` param `{pname}` has no `{{{pname}}}` placeholder in `{}`",
                    tool.path
                ),
            ));
        }
    }
    Ok(())
}

/// The request body: JSON, form and multipart bodies take any body
/// params; another content type takes one scalar body param (its text is
/// the body) or none (the caller gives the body); no body on GET or HEAD,
/// no `nest_body_keys`.
fn body(loaded: &Loaded, defaults: &Defaults, name: &str, tool: &Tool) -> Result<()> {
    let mut body_params = tool
        .params
        .iter()
        .filter(|(_, p)| p.location == ParamIn::Body);
    let first = body_params.next();
    if let BodyType::Other(ct) = body_type(tool, defaults) {
        if let Some((p, _)) = body_params.next() {
            return Err(loaded.error_at(
                &format!("{}/in", param_ptr(name, p)),
                format!(
                    "with content type `{ct}`, the body is the text of one `in: body` param; this is a second one \
                     (JSON, form and multipart bodies take several)"
                ),
            ));
        }
        if let Some((p, param)) = first {
            if matches!(param.ty, model::ParamType::Array | model::ParamType::Object) {
                return Err(loaded.error_at(
                    &format!("{}/type", param_ptr(name, p)),
                    format!("with content type `{ct}`, the body is the text of its `in: body` param, which must be a string, number, integer or boolean"),
                ));
            }
        }
    }
    if let Some((p, _)) = first {
        if matches!(tool.method, model::Method::Get | model::Method::Head) {
            return Err(loaded.error_at(
                &format!("{}/in", param_ptr(name, p)),
                format!("{} requests cannot carry a body", tool.method.as_str()),
            ));
        }
    }
    if tool.nest_body_keys.or(defaults.nest_body_keys) == Some(true) {
        return Err(loaded.error_at(
            &format!("{}/nest_body_keys", tool_ptr(name)),
            "nest_body_keys is not supported by xo-codegen",
        ));
    }
    Ok(())
}

/// `replaced_by` and `depends_on` name tools of the file.
fn references(loaded: &Loaded, name: &str, tool: &Tool) -> Result<()> {
    let b = &loaded.document.backend;
    let tp = tool_ptr(name);
    if let Some(r) = &tool.replaced_by {
        if !b.tools.contains_key(r) {
            return Err(loaded.error_at(
                &format!("{tp}/replaced_by"),
                format!("`replaced_by` names unknown tool `{r}`"),
            ));
        }
        if r == name {
            return Err(
                loaded.error_at(&format!("{tp}/replaced_by"), "a tool cannot replace itself")
            );
        }
    }
    for (i, d) in tool.depends_on.iter().enumerate() {
        if !b.tools.contains_key(d) && !b.composites.contains_key(d) {
            return Err(loaded.error_at(
                &format!("{tp}/depends_on/{i}"),
                format!("`depends_on` names unknown tool `{d}`"),
            ));
        }
    }
    Ok(())
}

/// Fail when two DADL names become the same Rust name. Items are
/// (Rust name, DADL name, JSON pointer of the DADL name).
pub(super) fn unique<'a>(
    loaded: &Loaded,
    what: &str,
    items: impl IntoIterator<Item = (String, &'a str, String)>,
) -> Result<()> {
    let mut seen: HashMap<String, (&str, String)> = HashMap::new();
    for (rust, dadl, ptr) in items {
        if let Some((other, other_ptr)) = seen.get(&rust) {
            let line = loaded
                .source
                .locate(other_ptr)
                .map(|l| format!(" (line {})", l.line))
                .unwrap_or_default();
            return Err(loaded.error_at(
                &ptr,
                format!(
                    "{what} `{dadl}` and `{other}`{line} both become `{rust}` in Rust; rename one"
                ),
            ));
        }
        seen.insert(rust, (dadl, ptr));
    }
    Ok(())
}

/// A character a header field name cannot have (it is visible ASCII
/// without `:`).
fn has_non_header_char(name: &str) -> bool {
    name.contains(|c: char| !c.is_ascii_graphic() || c == ':')
}

/// Placeholders of a path template, with a syntax check.
fn placeholders(path: &str) -> std::result::Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("unbalanced `}` in path".into());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("unclosed `{` in path")?;
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err(format!("malformed placeholder `{{{name}}}`"));
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("placeholder `{{{name}}}` appears twice"));
        }
        names.push(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(names)
}

fn in_name(l: ParamIn) -> &'static str {
    match l {
        ParamIn::Path => "path",
        ParamIn::Query => "query",
        ParamIn::Header => "header",
        ParamIn::Body => "body",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_syntax() {
        assert_eq!(placeholders("/x/{id}.{format}").unwrap(), ["id", "format"]);
        assert!(placeholders("/x/{id").is_err());
        assert!(placeholders("/x/{}").is_err());
        assert!(placeholders("/x/{a}/{a}").is_err());
    }
}
