//! Validation and lowering: typed model → IR.
//!
//! Every check reports file, line:column, tool and field through
//! [`Loaded::error_at`]. Lowering resolves the DADL override rule (a
//! tool-level `errors`/`pagination`/`response` object replaces the default as
//! a whole) and applies the naming rule of [`crate::naming`].

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::error::{Error, Result};
use crate::ir;
use crate::load::Loaded;
use crate::model::{self, AuthType, Deprecated, InjectInto, ParamIn, ToolPagination};
use crate::naming;
use crate::yaml::pointer_token;

pub mod kinds;
pub mod schema;

/// v0.2 features this generator implements (`requires.features` fails
/// closed on anything else).
pub const SUPPORTED_FEATURES: &[&str] =
    &["returns", "idempotency", "deprecation", "semantic_errors"];

fn tool_ptr(tool: &str) -> String {
    format!("/backend/tools/{}", pointer_token(tool))
}

fn param_ptr(tool: &str, param: &str) -> String {
    format!("{}/params/{}", tool_ptr(tool), pointer_token(param))
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

/// Parse a DADL duration (`2s`, `500ms`, `1m`, `1h`) into milliseconds.
fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some((n * factor).round() as u64)
}

fn lower_errors(
    loaded: &Loaded,
    ptr: &str,
    errors: Option<&model::Errors>,
) -> Result<ir::ErrorPolicy> {
    let Some(e) = errors else {
        return Ok(ir::ErrorPolicy {
            message_path: None,
            code_path: None,
            retry_on: vec![],
            terminal: vec![],
            max_retries: 0,
            backoff: model::Backoff::Exponential,
            initial_delay_ms: 1000,
            status_map: vec![],
            retry_after_header: None,
        });
    };
    for (field, list) in [("retry_on", &e.retry_on), ("terminal", &e.terminal)] {
        if let Some(bad) = list.iter().find(|s| !(100..=599).contains(*s)) {
            return Err(loaded.error_at(
                &format!("{ptr}/{field}"),
                format!("{bad} is not an HTTP status"),
            ));
        }
    }
    if let Some(both) = e.retry_on.iter().find(|s| e.terminal.contains(s)) {
        return Err(loaded.error_at(
            &format!("{ptr}/terminal"),
            format!("status {both} is both retryable and terminal"),
        ));
    }
    let mut status_map = Vec::new();
    for (status, code) in &e.map {
        let n: u16 = status
            .parse()
            .ok()
            .filter(|n| (400..=599).contains(n))
            .ok_or_else(|| {
                loaded.error_at(
                    &format!("{ptr}/map/{}", pointer_token(status)),
                    format!("`{status}` is not a 4xx/5xx status"),
                )
            })?;
        status_map.push((n, code.clone()));
    }
    let rs = e.retry_strategy.as_ref();
    let initial_delay_ms = match rs.and_then(|r| r.initial_delay.as_deref()) {
        None => 1000,
        Some(d) => duration_ms(d).ok_or_else(|| {
            loaded.error_at(
                &format!("{ptr}/retry_strategy/initial_delay"),
                format!("`{d}` is not a duration (e.g. `500ms`, `2s`, `1m`)"),
            )
        })?,
    };
    let for_retries = !e.retry_on.is_empty();
    Ok(ir::ErrorPolicy {
        message_path: e.message_path.clone(),
        code_path: e.code_path.clone(),
        retry_on: e.retry_on.clone(),
        terminal: e.terminal.clone(),
        max_retries: rs
            .and_then(|r| r.max_retries)
            .unwrap_or(if for_retries { 3 } else { 0 }),
        backoff: rs
            .and_then(|r| r.backoff)
            .unwrap_or(model::Backoff::Exponential),
        initial_delay_ms,
        status_map,
        retry_after_header: e
            .rate_limit
            .as_ref()
            .and_then(|r| r.retry_after_header.clone())
            .or_else(|| for_retries.then(|| "Retry-After".to_owned())),
    })
}

fn lower_pagination(p: &model::Pagination) -> ir::Pagination {
    let req = p.request.as_ref();
    ir::Pagination {
        strategy: p.strategy,
        behavior: p.behavior,
        limit_param: req.and_then(|r| r.limit_param.clone()),
        limit_default: req.and_then(|r| r.limit_default),
        max_pages: p.max_pages,
    }
}

fn lower_auth(loaded: &Loaded, a: &model::Auth) -> Result<ir::Auth> {
    let ptr = "/backend/auth";
    Ok(match a.kind {
        AuthType::Basic => ir::Auth::Basic,
        AuthType::Bearer | AuthType::Apikey | AuthType::Oauth2 | AuthType::Session => {
            match a.inject_into.unwrap_or(InjectInto::Header) {
                InjectInto::Query => ir::Auth::Query {
                    param: a.query_param.clone().ok_or_else(|| {
                        loaded.error_at(
                            &format!("{ptr}/inject_into"),
                            "a credential injected into the query needs `query_param`",
                        )
                    })?,
                },
                InjectInto::Header => {
                    let default_header = if a.kind == AuthType::Apikey {
                        "X-API-Key"
                    } else {
                        "Authorization"
                    };
                    let name = a
                        .header_name
                        .clone()
                        .unwrap_or_else(|| default_header.into());
                    let default_prefix = if name.eq_ignore_ascii_case("authorization") {
                        "Bearer "
                    } else {
                        ""
                    };
                    ir::Auth::Header {
                        prefix: a.prefix.clone().unwrap_or_else(|| default_prefix.into()),
                        name,
                    }
                }
            }
        }
    })
}

fn ensure_unique<'a>(
    loaded: &Loaded,
    what: &str,
    items: impl IntoIterator<Item = (String, &'a str, String)>,
) -> Result<()> {
    // (rust name, dadl name, pointer)
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

/// Validate the loaded document and lower it to the IR.
pub fn lower(loaded: &Loaded) -> Result<ir::Api> {
    let doc = &loaded.document;
    let b = &doc.backend;

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
    if b.name.is_empty()
        || !b.name.starts_with(|c: char| c.is_ascii_lowercase())
        || !b
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(loaded.error_at(
            "/backend/name",
            format!(
                "backend name `{}` is not a slug (lowercase letters, digits, `-`)",
                b.name
            ),
        ));
    }
    let base_path = match &b.base_url {
        None => String::new(),
        Some(u) => base_path_of(u).ok_or_else(|| {
            loaded.error_at(
                "/backend/base_url",
                format!("`{u}` is not an absolute http(s) URL"),
            )
        })?,
    };
    let auth = lower_auth(loaded, &b.auth)?;
    let defaults = b.defaults.clone().unwrap_or_default();
    let default_errors =
        lower_errors(loaded, "/backend/defaults/errors", defaults.errors.as_ref())?;
    let default_headers: Vec<(String, String)> = defaults.headers.clone().into_iter().collect();
    for (name, value) in &default_headers {
        if value.contains(['\r', '\n'])
            || name.contains(|c: char| !c.is_ascii_graphic() || c == ':')
        {
            return Err(loaded.error_at(
                &format!("/backend/defaults/headers/{}", pointer_token(name)),
                "invalid header",
            ));
        }
    }

    // Names that must be unique across the whole API.
    ensure_unique(
        loaded,
        "tools",
        b.tools
            .keys()
            .map(|t| (naming::pascal(t), t.as_str(), tool_ptr(t))),
    )?;

    // Upstream files carry hints for tools they have since dropped (the XO
    // 6.4 file does): a warning, not an error, so that such files load.
    let mut warnings = Vec::new();
    for tool in b.hints.keys() {
        if !b.tools.contains_key(tool) {
            warnings.push(
                loaded
                    .error_at(
                        &format!("/backend/hints/{}", pointer_token(tool)),
                        format!("hints for unknown tool `{tool}` are ignored"),
                    )
                    .to_string(),
            );
        }
    }
    if let Some(h) = &b.health {
        if let Some(t) = &h.tool {
            if !b.tools.contains_key(t) {
                return Err(loaded.error_at("/backend/health/tool", format!("unknown tool `{t}`")));
            }
        }
    }

    let (types, type_names) = schema::lower_types(loaded)?;
    let mut operations = Vec::with_capacity(b.tools.len());
    let mut segments: Vec<String> = Vec::new();
    let mut by_segment: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (name, tool) in &b.tools {
        let tp = tool_ptr(name);
        if !tool.path.starts_with('/') {
            return Err(loaded.error_at(
                &format!("{tp}/path"),
                format!("path `{}` must start with `/`", tool.path),
            ));
        }
        if tool.path.contains(['?', '#']) || tool.path.contains(char::is_whitespace) {
            return Err(loaded.error_at(&format!("{tp}/path"), "a path cannot contain `?`, `#` or whitespace; declare query params with `in: query`"));
        }
        let holes =
            placeholders(&tool.path).map_err(|m| loaded.error_at(&format!("{tp}/path"), m))?;
        for h in &holes {
            match tool.params.get(h) {
                None => {
                    return Err(loaded.error_at(
                        &format!("{tp}/path"),
                        format!("placeholder `{{{h}}}` has no `in: path` param"),
                    ));
                }
                Some(p) if p.location != ParamIn::Path => {
                    return Err(loaded.error_at(
                        &format!("{}/in", param_ptr(name, h)),
                        format!("param `{h}` fills the path placeholder `{{{h}}}` but is declared `in: {}`", in_name(p.location)),
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
        let json_type = |ct: &str| {
            let ct = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            ct == "application/json" || ct.ends_with("+json")
        };
        let content_type = tool
            .content_type
            .clone()
            .or_else(|| defaults.content_type.clone());
        let has_body_params = tool.params.values().any(|p| p.location == ParamIn::Body);
        let request_body = match content_type.as_deref() {
            None => {
                if has_body_params {
                    ir::RequestBody::Json
                } else {
                    ir::RequestBody::None
                }
            }
            Some(ct) if json_type(ct) => {
                if has_body_params {
                    ir::RequestBody::Json
                } else {
                    ir::RequestBody::None
                }
            }
            Some(ct)
                if ct.starts_with("multipart/")
                    || ct.starts_with("application/x-www-form-urlencoded") =>
            {
                return Err(loaded.error_at(
                    &format!("{tp}/content_type"),
                    format!("request content type `{ct}` is not supported by xo-codegen (JSON and raw bodies are)"),
                ));
            }
            Some(ct) => {
                if let Some((p, _)) = tool
                    .params
                    .iter()
                    .find(|(_, p)| p.location == ParamIn::Body)
                {
                    return Err(loaded.error_at(
                        &format!("{}/in", param_ptr(name, p)),
                        format!("a tool with a raw `{ct}` body cannot also have `in: body` params"),
                    ));
                }
                ir::RequestBody::Raw {
                    content_type: ct.to_owned(),
                }
            }
        };
        if has_body_params && matches!(tool.method, model::Method::Get | model::Method::Head) {
            let (p, _) = tool
                .params
                .iter()
                .find(|(_, p)| p.location == ParamIn::Body)
                .expect("has body params");
            return Err(loaded.error_at(
                &format!("{}/in", param_ptr(name, p)),
                format!("{} requests cannot carry a body", tool.method.as_str()),
            ));
        }
        if tool.nest_body_keys.or(defaults.nest_body_keys) == Some(true) {
            return Err(loaded.error_at(
                &format!("{tp}/nest_body_keys"),
                "nest_body_keys is not supported by xo-codegen",
            ));
        }
        let response_cfg = tool
            .response
            .clone()
            .or_else(|| defaults.response.clone())
            .unwrap_or_default();
        let response = if response_cfg.binary == Some(true)
            || response_cfg.kind.as_deref() == Some("file_url")
        {
            ir::Response::Binary {
                content_type: response_cfg.content_type.clone(),
            }
        } else if response_cfg.streaming == Some(true) {
            ir::Response::Streaming
        } else {
            ir::Response::Json
        };
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
        let result = match &tool.returns {
            Some(r) => Some(schema::lower_returns(loaded, &type_names, name, r)?),
            None => None,
        };

        let mut params = Vec::with_capacity(tool.params.len());
        for (pname, p) in &tool.params {
            let pp = param_ptr(name, pname);
            if p.location == ParamIn::Header
                && (pname.is_empty() || pname.contains(|c: char| !c.is_ascii_graphic() || c == ':'))
            {
                return Err(loaded.error_at(&pp, format!("`{pname}` is not a valid header name")));
            }
            params.push(ir::Param {
                name: pname.clone(),
                rust_name: naming::member(pname),
                ty: match p.ty {
                    model::ParamType::String => ir::ParamType::String,
                    model::ParamType::Integer => ir::ParamType::Integer,
                    model::ParamType::Number => ir::ParamType::Number,
                    model::ParamType::Boolean => ir::ParamType::Boolean,
                    model::ParamType::Array => ir::ParamType::Array,
                    model::ParamType::Object => ir::ParamType::Object,
                    model::ParamType::FileUrl => ir::ParamType::FileUrl,
                },
                location: match p.location {
                    ParamIn::Path => ir::Location::Path,
                    ParamIn::Query => ir::Location::Query,
                    ParamIn::Header => ir::Location::Header,
                    ParamIn::Body => ir::Location::Body,
                },
                // A path param is required whatever the file says.
                required: p.required || p.location == ParamIn::Path,
                description: p.description.clone(),
                default: p.default.clone(),
                value_type: kinds::param_value_type(loaded, &types, &type_names, &pp, p)?,
            });
        }
        ensure_unique(
            loaded,
            "params",
            params.iter().map(|p| {
                (
                    p.rust_name.clone(),
                    p.name.as_str(),
                    param_ptr(name, &p.name),
                )
            }),
        )?;
        // Arguments of the service method: required params plus a raw body.
        if matches!(request_body, ir::RequestBody::Raw { .. }) {
            // `body` is reserved, so no param can collide with it.
        }

        let errors = match &tool.errors {
            Some(e) => lower_errors(loaded, &format!("{tp}/errors"), Some(e))?,
            None => default_errors.clone(),
        };
        let pagination = match &tool.pagination {
            Some(ToolPagination::None) => None,
            Some(ToolPagination::Config(p)) => Some(lower_pagination(p)),
            None => defaults.pagination.as_ref().map(lower_pagination),
        };
        let segment = naming::resource_segment(&tool.path).to_owned();
        if !segments.contains(&segment) {
            segments.push(segment.clone());
        }
        by_segment
            .entry(segment.clone())
            .or_default()
            .push(operations.len());
        let hints = b
            .hints
            .get(name)
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
            .unwrap_or_default();
        let default_headers = headers_for(&default_headers, &response);
        operations.push(ir::Operation {
            tool: name.clone(),
            module: String::new(),
            method_name: String::new(),
            type_name: naming::pascal(name),
            spec_name: naming::upper(name),
            http_method: tool.method,
            path: tool.path.clone(),
            params,
            request_body,
            response,
            access: tool.access.as_deref().map(ir::Access::parse),
            description: tool.description.clone(),
            hints,
            deprecated: match &tool.deprecated {
                None | Some(Deprecated::Flag(false)) => None,
                Some(Deprecated::Flag(true)) => Some(String::new()),
                Some(Deprecated::Reason(r)) => Some(r.clone()),
            },
            replaced_by: tool.replaced_by.clone(),
            depends_on: tool.depends_on.clone(),
            errors,
            pagination,
            idempotency_header: tool.idempotency.as_ref().map(|i| i.header.clone()),
            retry_unsafe: tool.retry_unsafe.unwrap_or(false),
            default_headers,
            returns: tool.returns.clone(),
            result,
            kind: ir::Kind::Plain,
        });
    }

    // Modules and services; module names must not collide.
    let mut resources = Vec::new();
    let module_of = |seg: &str| naming::module(if seg.is_empty() { "root" } else { seg });
    ensure_unique(
        loaded,
        "resources",
        segments.iter().map(|s| {
            let first = by_segment[s][0];
            (
                module_of(s),
                s.as_str(),
                format!("{}/path", tool_ptr(&operations[first].tool)),
            )
        }),
    )?;
    for seg in &segments {
        let module = module_of(seg);
        let service_type = naming::service(if seg.is_empty() { "root" } else { seg });
        let idxs = by_segment[seg].clone();
        // Method names: strip the resource noun; on any clash fall back to the
        // full tool name for every tool involved.
        let mut proposed: Vec<String> = Vec::with_capacity(idxs.len());
        for &i in &idxs {
            let tool = &operations[i].tool;
            proposed.push(match &b.tools[tool].x_method {
                Some(m) => explicit_method_name(loaded, tool, m)?,
                None => naming::method_name(tool, seg)
                    .filter(|m| !naming::SERVICE_MEMBERS.contains(&m.as_str()))
                    .unwrap_or_else(|| whole_method_name(tool)),
            });
        }
        loop {
            let mut count: HashMap<&str, usize> = HashMap::new();
            for p in &proposed {
                *count.entry(p.as_str()).or_default() += 1;
            }
            let clashing: HashSet<String> = count
                .into_iter()
                .filter(|(_, n)| *n > 1)
                .map(|(p, _)| p.to_owned())
                .collect();
            if clashing.is_empty() {
                break;
            }
            let mut changed = false;
            for (k, &i) in idxs.iter().enumerate() {
                if clashing.contains(&proposed[k]) {
                    let tool = &operations[i].tool;
                    if b.tools[tool].x_method.is_some() {
                        return Err(loaded.error_at(
                            &format!("{}/x-method", tool_ptr(tool)),
                            format!(
                                "`x-method` `{}` is also the name of another method of resource `{seg}`",
                                proposed[k]
                            ),
                        ));
                    }
                    let full = whole_method_name(&operations[i].tool);
                    if proposed[k] != full {
                        proposed[k] = full;
                        changed = true;
                    }
                }
            }
            if !changed {
                // Two tools with the same snake name: already rejected above
                // through their Pascal names; keep this loop total anyway.
                return Err(Error::new(format!(
                    "method names in resource `{seg}` cannot be made unique"
                )));
            }
        }
        for (k, &i) in idxs.iter().enumerate() {
            let op = &mut operations[i];
            op.module = module.clone();
            op.method_name = proposed[k].clone();
            if op.type_name == service_type {
                return Err(loaded.error_at(
                    &tool_ptr(&op.tool),
                    format!("tool `{}` and resource `{seg}` both become the Rust type `{service_type}`; rename the tool", op.tool),
                ));
            }
        }
        resources.push(ir::Resource {
            module,
            service_type,
            segment: seg.clone(),
            operations: idxs,
        });
    }

    kinds::assign(loaded, &mut operations, &types)?;

    Ok(ir::Api {
        name: b.name.clone(),
        version: b.version.clone(),
        description: b.description.clone(),
        base_path,
        auth,
        resources,
        operations,
        types,
        warnings,
    })
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

fn in_name(l: ParamIn) -> &'static str {
    match l {
        ParamIn::Path => "path",
        ParamIn::Query => "query",
        ParamIn::Header => "header",
        ParamIn::Body => "body",
    }
}

/// The default headers of one operation: a binary download does not send a
/// JSON `Accept` from the defaults, but its own content type (or `*/*`).
fn headers_for(defaults: &[(String, String)], response: &ir::Response) -> Vec<(String, String)> {
    match response {
        ir::Response::Binary { content_type } => {
            let mut h: Vec<(String, String)> = defaults
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("accept"))
                .cloned()
                .collect();
            h.push((
                "Accept".into(),
                content_type.clone().unwrap_or_else(|| "*/*".into()),
            ));
            h
        }
        _ => defaults.to_vec(),
    }
}

/// The path of an absolute http(s) URL, without trailing slash.
fn base_path_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    if host_end == 0 {
        return None;
    }
    let path = &rest[host_end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    Some(path.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("2s"), Some(2000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("1m"), Some(60_000));
        assert_eq!(duration_ms("soon"), None);
    }

    #[test]
    fn base_paths() {
        assert_eq!(
            base_path_of("https://xo.example.com/rest/v0").as_deref(),
            Some("/rest/v0")
        );
        assert_eq!(base_path_of("https://api.example.com").as_deref(), Some(""));
        assert_eq!(base_path_of("api.example.com"), None);
    }

    #[test]
    fn placeholder_syntax() {
        assert_eq!(placeholders("/x/{id}.{format}").unwrap(), ["id", "format"]);
        assert!(placeholders("/x/{id").is_err());
        assert!(placeholders("/x/{}").is_err());
        assert!(placeholders("/x/{a}/{a}").is_err());
    }
}
