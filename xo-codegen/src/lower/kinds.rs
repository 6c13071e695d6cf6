//! The typing extensions of a DADL file (`dadl/EXTENSIONS.md`): what each
//! operation answers (`x-kind` with `returns`) and which parameters carry a
//! generated type (`x-type`). Called by the operations pass for each tool;
//! checks each declaration against the tool and the types it names.

use std::collections::HashMap;

use crate::error::Result;
use crate::ir::types::{TypeDef, TypeRef};
use crate::ir::{self, Kind, Location, ParamType, Response};
use crate::load::Loaded;
use crate::model::{self, ToolKind};

use super::tool_ptr;

/// The generated type of a parameter declared with `x-type`: an id type or
/// a string enum, for a `string` parameter or the items of an `array`.
pub fn param_value_type(
    loaded: &Loaded,
    types: &[TypeDef],
    names: &HashMap<String, String>,
    ptr: &str,
    param: &model::Param,
) -> Result<Option<TypeRef>> {
    let Some(name) = &param.x_type else {
        return Ok(None);
    };
    let at = format!("{ptr}/x-type");
    let rust = names.get(name).ok_or_else(|| {
        loaded.error_at(
            &at,
            format!("unknown type `{name}` (not in `backend.types`)"),
        )
    })?;
    let def = types.iter().find(|t| t.name() == rust);
    if !matches!(def, Some(TypeDef::Id { .. } | TypeDef::Enum { .. })) {
        return Err(loaded.error_at(
            &at,
            format!("`x-type` must name an id type (`x-id`) or a string enum, `{name}` is neither"),
        ));
    }
    if !matches!(param.ty, model::ParamType::String | model::ParamType::Array) {
        return Err(loaded.error_at(
            &at,
            "`x-type` applies to `type: string` or `type: array` parameters",
        ));
    }
    Ok(Some(TypeRef::Named(rust.clone())))
}

/// The kind of an operation, from its tool's `x-kind` (`Plain` without),
/// checking that the tool has what the kind needs.
pub fn kind(
    loaded: &Loaded,
    tool: &str,
    x_kind: Option<ToolKind>,
    response: &Response,
    params: &[ir::Param],
    result: Option<&TypeRef>,
    types: &[TypeDef],
) -> Result<Kind> {
    let Some(kind) = x_kind else {
        return Ok(Kind::Plain);
    };
    let at = format!("{}/x-kind", tool_ptr(tool));
    let fail = |message: String| loaded.error_at(&at, message);
    if !matches!(response, Response::Json) {
        return Err(fail(format!(
            "`x-kind: {}` needs a JSON response, this tool streams bytes",
            kind_name(kind)
        )));
    }
    Ok(match kind {
        ToolKind::Collection => collection(params, result, types).map_err(fail)?,
        ToolKind::Action => {
            if !has_param(params, "sync", Location::Query, ParamType::Boolean) {
                return Err(fail(
                    "an action needs a boolean query parameter `sync`".into(),
                ));
            }
            Kind::Action {
                output: result.cloned(),
            }
        }
        ToolKind::Create => match result {
            Some(id @ TypeRef::Named(n)) if is_id(types, n) => Kind::Create { id: id.clone() },
            _ => {
                return Err(fail(
                    "`x-kind: create` needs `returns` naming an id type (`x-id`)".into(),
                ));
            }
        },
        ToolKind::Empty => {
            if result.is_some() {
                return Err(fail("`x-kind: empty` cannot have `returns`".into()));
            }
            Kind::Empty
        }
    })
}

fn kind_name(kind: ToolKind) -> &'static str {
    match kind {
        ToolKind::Collection => "collection",
        ToolKind::Action => "action",
        ToolKind::Create => "create",
        ToolKind::Empty => "empty",
    }
}

fn is_id(types: &[TypeDef], name: &str) -> bool {
    matches!(
        types.iter().find(|t| t.name() == name),
        Some(TypeDef::Id { .. })
    )
}

fn has_param(params: &[ir::Param], name: &str, location: Location, ty: ParamType) -> bool {
    params
        .iter()
        .any(|p| p.name == name && p.location == location && p.ty == ty && !p.required)
}

/// A collection: `returns: {type: array, items: Struct}` and the optional
/// query parameters `fields`, `filter`, `limit`, `ndjson`.
fn collection(
    params: &[ir::Param],
    result: Option<&TypeRef>,
    types: &[TypeDef],
) -> std::result::Result<Kind, String> {
    let item = match result {
        Some(TypeRef::Array(item)) => match item.as_ref() {
            TypeRef::Named(n) => n.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let Some(TypeDef::Struct { fields, .. }) = types.iter().find(|t| t.name() == item) else {
        return Err(
            "`x-kind: collection` needs `returns: {type: array, items: <object type>}`".into(),
        );
    };
    for (name, ty) in [
        ("fields", ParamType::String),
        ("filter", ParamType::String),
        ("limit", ParamType::Integer),
        ("ndjson", ParamType::Boolean),
    ] {
        if !has_param(params, name, Location::Query, ty) {
            return Err(format!(
                "a collection needs an optional query parameter `{name}`"
            ));
        }
    }
    let id = fields
        .iter()
        .find(|f| f.wire == "id")
        .map(|f| f.ty.clone())
        .filter(|t| matches!(t, TypeRef::Named(n) if is_id(types, n)))
        .unwrap_or(TypeRef::String);
    Ok(Kind::Collection {
        item,
        id,
        markdown: has_param(params, "markdown", Location::Query, ParamType::Boolean),
        by_name: fields
            .iter()
            .any(|f| f.wire == "name_label" && f.ty == TypeRef::String),
        // Set by `operations` from the tool's checked `x-event-type`.
        event_type: None,
    })
}

/// The checked `x-event-type` of a tool: only on a collection, and a name
/// made of ASCII letters, digits, `-` and `_` (XO's `VM-template`), since it
/// is emitted as a string literal and sent as a subscription name.
pub fn event_type(
    value: Option<&str>,
    kind: Option<ToolKind>,
) -> std::result::Result<Option<String>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    if kind != Some(ToolKind::Collection) {
        return Err("`x-event-type` applies to a tool with `x-kind: collection` only".into());
    }
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(format!(
            "`x-event-type` must be a non-empty name of ASCII letters, digits, `-` and `_`, not {value:?}"
        ));
    }
    Ok(Some(value.to_owned()))
}
