//! Pass: operations. Each tool of a validated document becomes one
//! [`ir::Operation`], built in one step from the tool, the backend
//! defaults it inherits and the names the resource and method-name passes
//! gave it.

use std::collections::HashMap;

use crate::error::Result;
use crate::ir::{self, types::TypeDef};
use crate::load::Loaded;
use crate::model::{Defaults, Deprecated, ParamIn, Tool, ToolPagination};
use crate::naming;

use super::validate::unique;
use super::{backend, kinds, param_ptr, schema, tool_ptr};

/// What every operation of a file shares.
pub struct Context<'a> {
    /// The document.
    pub loaded: &'a Loaded,
    /// `backend.defaults` (empty when absent).
    pub defaults: &'a Defaults,
    /// The error policy of tools without `errors`.
    pub default_errors: &'a ir::ErrorPolicy,
    /// The lowered types.
    pub types: &'a [TypeDef],
    /// DADL type name → Rust type name.
    pub type_names: &'a HashMap<String, String>,
}

/// The names a tool gets from the resource and method-name passes.
pub struct Names<'a> {
    /// Module of its resource.
    pub module: &'a str,
    /// Method on the resource's service.
    pub method_name: String,
}

/// Lower one tool.
pub fn lower(cx: &Context, name: &str, tool: &Tool, names: Names) -> Result<ir::Operation> {
    let loaded = cx.loaded;
    let response = response(tool, cx.defaults);
    let result = match &tool.returns {
        Some(r) => Some(schema::lower_returns(loaded, cx.type_names, name, r)?),
        None => None,
    };
    let params = params(cx, name, tool)?;
    let errors = match &tool.errors {
        Some(e) => backend::error_policy(loaded, &format!("{}/errors", tool_ptr(name)), Some(e))?,
        None => cx.default_errors.clone(),
    };
    let pagination = match &tool.pagination {
        Some(ToolPagination::None) => None,
        Some(ToolPagination::Config(p)) => Some(backend::pagination(p)),
        None => cx.defaults.pagination.as_ref().map(backend::pagination),
    };
    let event_type = kinds::event_type(tool.x_event_type.as_deref(), tool.x_kind)
        .map_err(|m| loaded.error_at(&format!("{}/x-event-type", tool_ptr(name)), m))?;
    let mut kind = kinds::kind(
        loaded,
        name,
        tool.x_kind,
        &response,
        &params,
        result.as_ref(),
        cx.types,
    )?;
    if let ir::Kind::Collection { event_type: e, .. } = &mut kind {
        *e = event_type;
    }
    Ok(ir::Operation {
        tool: name.to_owned(),
        module: names.module.to_owned(),
        method_name: names.method_name,
        type_name: naming::pascal(name),
        spec_name: naming::upper(name),
        http_method: tool.method,
        path: tool.path.clone(),
        request_body: request_body(tool, cx.defaults),
        default_headers: headers_for(&cx.defaults.headers, &response),
        params,
        response,
        access: tool.access.as_deref().map(ir::Access::parse),
        description: tool.description.clone(),
        hints: loaded
            .document
            .backend
            .hints
            .get(name)
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
            .unwrap_or_default(),
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
        returns: tool.returns.clone(),
        result,
        kind,
    })
}

/// The parameters in declaration order; fails when two become the same
/// Rust name or an `x-type` does not fit.
fn params(cx: &Context, name: &str, tool: &Tool) -> Result<Vec<ir::Param>> {
    let mut params = Vec::with_capacity(tool.params.len());
    for (pname, p) in &tool.params {
        let pp = param_ptr(name, pname);
        params.push(ir::Param {
            name: pname.clone(),
            rust_name: naming::member(pname),
            ty: p.ty,
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
            value_type: kinds::param_value_type(cx.loaded, cx.types, cx.type_names, &pp, p)?,
        });
    }
    split_clashes(&mut params);
    unique(
        cx.loaded,
        "params",
        params.iter().map(|p| {
            (
                p.rust_name.clone(),
                p.name.as_str(),
                param_ptr(name, &p.name),
            )
        }),
    )?;
    Ok(params)
}

/// Naming rule 8: parameters in different places (`linodeId` in the path,
/// `linode_id` in the body) that get the same Rust name are all told apart
/// by their place: `linode_id_path`, `linode_id_body`. Both are renamed, so
/// that neither depends on the order of the file. Two parameters in the
/// same place keep their name, and `unique` refuses them.
fn split_clashes(params: &mut [ir::Param]) {
    let mut places: HashMap<String, Vec<ir::Location>> = HashMap::new();
    for p in params.iter() {
        places
            .entry(p.rust_name.clone())
            .or_default()
            .push(p.location);
    }
    for p in params.iter_mut() {
        let here = &places[&p.rust_name];
        let distinct = here.iter().enumerate().all(|(i, l)| !here[..i].contains(l));
        if here.len() > 1 && distinct {
            let place = match p.location {
                ir::Location::Path => "path",
                ir::Location::Query => "query",
                ir::Location::Header => "header",
                ir::Location::Body => "body",
            };
            p.rust_name = format!("{}_{place}", p.rust_name.trim_end_matches('_'));
        }
    }
}

/// The tool's request content type, or the default one (`defaults.content_type`,
/// else a `Content-Type` of `defaults.headers`, as the spec's own example
/// declares a form API).
pub(super) fn content_type<'a>(tool: &'a Tool, defaults: &'a Defaults) -> Option<&'a str> {
    tool.content_type
        .as_deref()
        .or(defaults.content_type.as_deref())
        .or_else(|| {
            defaults
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_str())
        })
}

/// How a tool's body params are sent, from its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyType<'a> {
    /// `application/json`, `+json` or none declared.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// Anything else: a raw body, or one param's text.
    Other(&'a str),
}

/// The body type of a tool.
pub(super) fn body_type<'a>(tool: &'a Tool, defaults: &'a Defaults) -> BodyType<'a> {
    let Some(ct) = content_type(tool, defaults) else {
        return BodyType::Json;
    };
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/x-www-form-urlencoded" => BodyType::Form,
        "multipart/form-data" => BodyType::Multipart,
        _ if is_json_type(ct) => BodyType::Json,
        _ => BodyType::Other(ct),
    }
}

/// `application/json` or a `+json` type, parameters ignored.
pub(super) fn is_json_type(ct: &str) -> bool {
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ct == "application/json" || ct.ends_with("+json")
}

/// The body: the `in: body` params as a JSON object, form fields or
/// multipart parts; with another content type, the one body param's text
/// or else a raw body from the caller (validation allowed at most one body
/// param there). A form or JSON tool without body params sends no body.
fn request_body(tool: &Tool, defaults: &Defaults) -> ir::RequestBody {
    let body_param = tool
        .params
        .iter()
        .find(|(_, p)| p.location == ParamIn::Body)
        .map(|(n, _)| n);
    match (body_type(tool, defaults), body_param) {
        (_, None) if !matches!(body_type(tool, defaults), BodyType::Other(_)) => {
            ir::RequestBody::None
        }
        (BodyType::Json, _) => ir::RequestBody::Json,
        (BodyType::Form, _) => ir::RequestBody::Form,
        (BodyType::Multipart, _) => ir::RequestBody::Multipart,
        (BodyType::Other(ct), None) => ir::RequestBody::Raw {
            content_type: ct.to_owned(),
        },
        (BodyType::Other(ct), Some(p)) => ir::RequestBody::Text {
            content_type: ct.to_owned(),
            param: p.clone(),
        },
    }
}

/// The response kind, from the tool's `response` object or the default one
/// (a tool's object replaces the default as a whole).
fn response(tool: &Tool, defaults: &Defaults) -> ir::Response {
    let cfg = tool
        .response
        .clone()
        .or_else(|| defaults.response.clone())
        .unwrap_or_default();
    if cfg.binary == Some(true) || cfg.kind.as_deref() == Some("file_url") {
        ir::Response::Binary {
            content_type: cfg.content_type.clone(),
        }
    } else if cfg.streaming == Some(true) {
        ir::Response::Streaming
    } else {
        ir::Response::Json
    }
}

/// The default headers of one operation: a binary download does not send a
/// JSON `Accept` from the defaults, but its own content type (or `*/*`).
fn headers_for(
    defaults: &indexmap::IndexMap<String, String>,
    response: &ir::Response,
) -> Vec<(String, String)> {
    match response {
        ir::Response::Binary { content_type } => {
            let mut h: Vec<(String, String)> = defaults
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("accept"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            h.push((
                "Accept".into(),
                content_type.clone().unwrap_or_else(|| "*/*".into()),
            ));
            h
        }
        _ => defaults
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}
