//! Pass: DADL v0.2 `types` and `returns` (a JSON Schema subset) → the type
//! nodes of [`crate::ir::types`].
//!
//! Schema features an SDK cannot type precisely (`oneOf`, `anyOf`, most
//! `allOf`) become `serde_json::Value`.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::error::Result;
use crate::ir::types::{Field, TypeDef, TypeRef, UNKNOWN_VARIANT};
use crate::load::Loaded;
use crate::naming;
use crate::yaml::pointer_token;

struct Lowering<'a> {
    loaded: &'a Loaded,
    /// DADL type name → Rust name.
    names: HashMap<String, String>,
    out: Vec<TypeDef>,
    used: BTreeSet<String>,
}

/// Lower `backend.types`; returns the type definitions in declaration order
/// (nested ones after their parent) and the DADL-name → Rust-name table.
pub fn lower_types(loaded: &Loaded) -> Result<(Vec<TypeDef>, HashMap<String, String>)> {
    let types = &loaded.document.backend.types;
    let mut names = HashMap::new();
    let mut used = BTreeSet::new();
    for name in types.keys() {
        let rust = naming::pascal(name);
        if !used.insert(rust.clone()) {
            return Err(loaded.error_at(
                &format!("/backend/types/{}", pointer_token(name)),
                format!("type `{name}` collides with another type as Rust `{rust}`"),
            ));
        }
        names.insert(name.clone(), rust);
    }
    let mut l = Lowering {
        loaded,
        names,
        out: Vec::new(),
        used,
    };
    for (name, schema) in types {
        let rust = l.names[name].clone();
        let ptr = format!("/backend/types/{}", pointer_token(name));
        l.define(&rust, name, schema, &ptr)?;
    }
    let mut out = l.out;
    reject_alias_cycles(loaded, &out)?;
    box_recursive_fields(&mut out);
    Ok((out, l.names))
}

/// Resolve a tool's `returns` to a type expression (inline objects become
/// `Value`: name them in `types` to get a struct).
pub fn lower_returns(
    loaded: &Loaded,
    names: &HashMap<String, String>,
    tool: &str,
    returns: &Value,
) -> Result<TypeRef> {
    let mut l = Lowering {
        loaded,
        names: names.clone(),
        out: Vec::new(),
        used: BTreeSet::new(),
    };
    let ptr = format!("/backend/tools/{}/returns", pointer_token(tool));
    l.reference(returns, &ptr, None)
}

/// A name derived from `base` by appending `suffix`. The trailing `_` that
/// keeps a bare name off a keyword (`Self_`, `self_`) goes first, so that
/// the result stays camel or snake case: `Self_` + `Item` is `SelfItem`,
/// `self_` + `_2` is `self_2` (rustc warns on `Self_Item` and `self__2`).
fn derived(base: &str, suffix: &str) -> String {
    format!("{}{suffix}", base.trim_end_matches('_'))
}

fn description(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A schema that admits `null` (`type: [T, "null"]` or `nullable: true`).
fn nullable(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true))
        || schema
            .get("type")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "null"))
}

/// Wrap the type of a nullable array item or map value in `Option`.
fn maybe_optional(schema: &Value, ty: TypeRef) -> TypeRef {
    if nullable(schema) && ty != TypeRef::Value {
        TypeRef::Optional(Box::new(ty))
    } else {
        ty
    }
}

fn type_name(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(s) => Some(s),
        // `["string", "null"]`: the first non-null type.
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

impl Lowering<'_> {
    fn unique(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut i = 2;
        while !self.used.insert(name.clone()) {
            name = derived(&base, &i.to_string());
            i += 1;
        }
        name
    }

    /// Define a named type from `schema`.
    fn define(&mut self, rust: &str, source: &str, schema: &Value, ptr: &str) -> Result<()> {
        self.check_properties(schema, ptr)?;
        let doc = description(schema);
        if let Some(kind) = schema.get("x-id") {
            return self.define_id(rust, source, schema, kind, ptr);
        }
        if let Some(values) = schema.get("enum") {
            let variants = self.variants(values, ptr)?;
            self.out.push(TypeDef::Enum {
                name: rust.into(),
                source: source.into(),
                doc,
                variants,
            });
            return Ok(());
        }
        if schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
        {
            if let Some(merged) = self.merged_all_of(schema) {
                return self.define(rust, source, &merged, ptr);
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let mut fields = Vec::new();
            let mut taken: BTreeSet<String> = BTreeSet::new();
            for (wire, prop) in props {
                let mut field = naming::snake(wire);
                if field == "unknown_fields" {
                    field.push('_');
                }
                let mut i = 2;
                let base = field.clone();
                while !taken.insert(field.clone()) {
                    field = derived(&base, &format!("_{i}"));
                    i += 1;
                }
                let fptr = format!("{ptr}/properties/{}", pointer_token(wire));
                let nested = derived(rust, naming::pascal(wire).trim_end_matches('_'));
                let ty = self.reference(prop, &fptr, Some(&nested))?;
                fields.push(Field {
                    wire: wire.clone(),
                    rust: field,
                    ty,
                    doc: description(prop),
                    boxed: false,
                });
            }
            self.out.push(TypeDef::Struct {
                name: rust.into(),
                source: source.into(),
                doc,
                fields,
                extra: "unknown_fields".into(),
            });
            return Ok(());
        }
        let ty = self.reference(schema, ptr, Some(&derived(rust, "Item")))?;
        self.out.push(TypeDef::Alias {
            name: rust.into(),
            source: source.into(),
            doc,
            ty,
        });
        Ok(())
    }

    /// An id type (`x-id: Kind`, optionally `x-id-from: [OtherId, …]`).
    fn define_id(
        &mut self,
        rust: &str,
        source: &str,
        schema: &Value,
        kind: &Value,
        ptr: &str,
    ) -> Result<()> {
        let kind = kind.as_str().filter(|k| !k.is_empty()).ok_or_else(|| {
            self.loaded.error_at(
                &format!("{ptr}/x-id"),
                "`x-id` must name the kind of object (e.g. `Vm`)",
            )
        })?;
        if type_name(schema) != Some("string") {
            return Err(self
                .loaded
                .error_at(ptr, format!("id type `{source}` must be `type: string`")));
        }
        let mut from = Vec::new();
        if let Some(list) = schema.get("x-id-from") {
            let items = list.as_array().ok_or_else(|| {
                self.loaded.error_at(
                    &format!("{ptr}/x-id-from"),
                    "`x-id-from` must be a list of id types",
                )
            })?;
            for (i, item) in items.iter().enumerate() {
                let iptr = format!("{ptr}/x-id-from/{i}");
                let name = item.as_str().unwrap_or_default();
                if !self.is_id_type(name) {
                    return Err(self
                        .loaded
                        .error_at(&iptr, format!("`{name}` is not an id type (`x-id`)")));
                }
                from.push(self.names[name].clone());
            }
        }
        self.out.push(TypeDef::Id {
            name: rust.into(),
            source: source.into(),
            doc: description(schema),
            object: kind.into(),
            from,
        });
        Ok(())
    }

    /// `name` is a `types` entry declared with `x-id`.
    fn is_id_type(&self, name: &str) -> bool {
        self.loaded
            .document
            .backend
            .types
            .get(name)
            .is_some_and(|t| t.get("x-id").is_some())
    }

    /// An `allOf` whose parts are all objects (inline, or `types` entries,
    /// themselves possibly `allOf`), as one object schema; `None` otherwise.
    fn merged_all_of(&self, schema: &Value) -> Option<Value> {
        let mut properties = serde_json::Map::new();
        let mut required: Vec<Value> = Vec::new();
        self.collect_parts(schema, &mut properties, &mut required, 0)?;
        let mut merged = serde_json::Map::new();
        merged.insert("type".into(), Value::String("object".into()));
        if let Some(d) = schema.get("description") {
            merged.insert("description".into(), d.clone());
        }
        merged.insert("properties".into(), Value::Object(properties));
        merged.insert("required".into(), Value::Array(required));
        Some(Value::Object(merged))
    }

    fn collect_parts(
        &self,
        schema: &Value,
        properties: &mut serde_json::Map<String, Value>,
        required: &mut Vec<Value>,
        depth: usize,
    ) -> Option<()> {
        if depth > 16 {
            return None;
        }
        let named = match schema {
            Value::String(n) => Some(n.as_str()),
            _ => schema
                .get("$ref")
                .and_then(Value::as_str)
                .map(|r| r.rsplit('/').next().unwrap_or(r)),
        };
        if let Some(name) = named {
            let raw = self.loaded.document.backend.types.get(name)?;
            return self.collect_parts(raw, properties, required, depth + 1);
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                self.collect_parts(part, properties, required, depth + 1)?;
            }
        }
        match schema.get("properties") {
            Some(Value::Object(p)) => {
                properties.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Some(_) => return None,
            None if schema.get("allOf").is_some() => {}
            None => return None,
        }
        if let Some(Value::Array(r)) = schema.get("required") {
            required.extend(r.iter().cloned());
        }
        Some(())
    }

    fn variants(&mut self, values: &Value, ptr: &str) -> Result<Vec<(String, String)>> {
        let Some(values) = values.as_array() else {
            return Err(self
                .loaded
                .error_at(&format!("{ptr}/enum"), "`enum` must be a list"));
        };
        let mut out: Vec<(String, String)> = Vec::new();
        let mut taken = BTreeSet::from([UNKNOWN_VARIANT.to_owned()]);
        for v in values {
            let wire = match v {
                // A repeated value would be an unreachable match arm.
                Value::String(s) if out.iter().any(|(w, _)| w == s) => continue,
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => {
                    return Err(self.loaded.error_at(
                        &format!("{ptr}/enum"),
                        format!("only string enums are supported, found {other}"),
                    ));
                }
            };
            let mut variant = variant_name(&wire);
            if variant == UNKNOWN_VARIANT {
                variant = "UnknownValue".into();
            }
            let base = variant.clone();
            let mut i = 2;
            while !taken.insert(variant.clone()) {
                variant = derived(&base, &i.to_string());
                i += 1;
            }
            out.push((wire, variant));
        }
        Ok(out)
    }

    /// The type of a schema used in a field, item or `returns` position.
    /// Inline objects and enums become named types `nested` when given.
    /// `properties`, when present, maps names to schemas. (Anything else,
    /// e.g. a bare `properties:` that YAML reads as null, used to send
    /// `define` and `reference` into each other without end.)
    fn check_properties(&self, schema: &Value, ptr: &str) -> Result<()> {
        match schema.get("properties") {
            None | Some(Value::Object(_)) => Ok(()),
            Some(other) => Err(self.loaded.error_at(
                &format!("{ptr}/properties"),
                format!(
                    "`properties` must be a mapping of property names to schemas, found {}",
                    match other {
                        Value::Null => "nothing (null)",
                        Value::Array(_) => "a list",
                        Value::String(_) => "a string",
                        _ => "a scalar",
                    }
                ),
            )),
        }
    }

    fn reference(&mut self, schema: &Value, ptr: &str, nested: Option<&str>) -> Result<TypeRef> {
        self.check_properties(schema, ptr)?;
        match schema {
            Value::String(name) => return self.named(name, ptr),
            Value::Bool(_) => return Ok(TypeRef::Value),
            Value::Object(_) => {}
            _ => {
                return Err(self
                    .loaded
                    .error_at(ptr, "expected a schema object or a type name"));
            }
        }
        if let Some(id) = schema.get("x-href") {
            let name = id.as_str().unwrap_or_default();
            if !self.is_id_type(name) {
                return Err(self.loaded.error_at(
                    &format!("{ptr}/x-href"),
                    format!("`x-href` must name an id type (`x-id`), found `{id}`"),
                ));
            }
            return Ok(TypeRef::Href(self.names[name].clone()));
        }
        if let Some(r) = schema.get("$ref") {
            let name = r.as_str().ok_or_else(|| {
                self.loaded
                    .error_at(&format!("{ptr}/$ref"), "`$ref` must be a string")
            })?;
            let name = name.rsplit('/').next().unwrap_or(name);
            return self.named(name, &format!("{ptr}/$ref"));
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            if all.len() == 1 {
                return self.reference(&all[0], &format!("{ptr}/allOf/0"), nested);
            }
            // Objects combined: one struct with the fields of every part.
            return match (self.merged_all_of(schema), nested) {
                (Some(merged), Some(n)) => {
                    let name = self.unique(n.to_owned());
                    self.define(&name, n, &merged, ptr)?;
                    Ok(TypeRef::Named(name))
                }
                _ => Ok(TypeRef::Value),
            };
        }
        if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
            return Ok(TypeRef::Value);
        }
        if schema.get("enum").is_some() || schema.get("properties").is_some() {
            return match nested {
                Some(n) => {
                    let name = self.unique(n.to_owned());
                    self.define(&name, n, schema, ptr)?;
                    Ok(TypeRef::Named(name))
                }
                None if schema.get("enum").is_some() => Ok(TypeRef::String),
                None => Ok(TypeRef::Value),
            };
        }
        Ok(match type_name(schema) {
            Some("string") => TypeRef::String,
            Some("integer") => TypeRef::Integer,
            Some("number") => TypeRef::Number,
            Some("boolean") => TypeRef::Boolean,
            Some("array") => {
                let item_name = nested.map(|n| derived(n, "Item"));
                match schema.get("items") {
                    Some(items) => TypeRef::Array(Box::new(maybe_optional(
                        items,
                        self.reference(items, &format!("{ptr}/items"), item_name.as_deref())?,
                    ))),
                    None => TypeRef::Array(Box::new(TypeRef::Value)),
                }
            }
            Some("object") => match schema.get("additionalProperties") {
                // A schema, or a bare `types` name.
                Some(ap @ (Value::Object(_) | Value::String(_))) => {
                    let value_name = nested.map(|n| derived(n, "Value"));
                    TypeRef::Map(Box::new(maybe_optional(
                        ap,
                        self.reference(
                            ap,
                            &format!("{ptr}/additionalProperties"),
                            value_name.as_deref(),
                        )?,
                    )))
                }
                _ => TypeRef::Value,
            },
            Some("null") | None => TypeRef::Value,
            Some(other) => {
                return Err(self.loaded.error_at(
                    &format!("{ptr}/type"),
                    format!("unsupported schema type `{other}`"),
                ));
            }
        })
    }

    fn named(&mut self, name: &str, ptr: &str) -> Result<TypeRef> {
        Ok(match name {
            "string" => TypeRef::String,
            "integer" => TypeRef::Integer,
            "number" => TypeRef::Number,
            "boolean" => TypeRef::Boolean,
            "object" | "any" => TypeRef::Value,
            _ => match self.names.get(name) {
                Some(rust) => TypeRef::Named(rust.clone()),
                None => {
                    return Err(self.loaded.error_at(
                        ptr,
                        format!("unknown type `{name}` (not in `backend.types`)"),
                    ));
                }
            },
        })
    }
}

/// The type a named type stands for once aliases are followed.
fn resolve_alias<'a>(types: &'a [TypeDef], mut ty: &'a TypeRef) -> &'a TypeRef {
    for _ in 0..=types.len() {
        let TypeRef::Named(n) = ty else { return ty };
        match types.iter().find(|t| t.name() == n) {
            Some(TypeDef::Alias { ty: next, .. }) => ty = next,
            _ => return ty,
        }
    }
    ty
}

/// `A = B`, `B = A` can never be a Rust type: reject it where it is written.
fn reject_alias_cycles(loaded: &Loaded, types: &[TypeDef]) -> Result<()> {
    for t in types {
        let TypeDef::Alias {
            name, source, ty, ..
        } = t
        else {
            continue;
        };
        let mut seen = vec![name.as_str()];
        let mut cur = ty;
        while let TypeRef::Named(n) = cur {
            if seen.contains(&n.as_str()) {
                return Err(loaded.error_at(
                    &format!("/backend/types/{}", pointer_token(source)),
                    format!(
                        "type `{source}` is an alias of itself (through {})",
                        seen.join(" → ")
                    ),
                ));
            }
            seen.push(n);
            match types.iter().find(|x| x.name() == n) {
                Some(TypeDef::Alias { ty, .. }) => cur = ty,
                _ => break,
            }
        }
    }
    Ok(())
}

/// Box every struct field that directly (not through a `Vec` or map) leads
/// back to its own struct.
fn box_recursive_fields(types: &mut [TypeDef]) {
    // Direct edges: struct → structs held by value in its fields.
    let direct = |types: &[TypeDef], name: &str| -> Vec<String> {
        match types.iter().find(|t| t.name() == name) {
            Some(TypeDef::Struct { fields, .. }) => fields
                .iter()
                .filter_map(|f| match resolve_alias(types, &f.ty) {
                    TypeRef::Named(n) => Some(n.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let reaches = |types: &[TypeDef], from: &str, to: &str| -> bool {
        let mut stack = vec![from.to_owned()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(direct(types, &n));
            }
        }
        false
    };
    let mut to_box = Vec::new();
    for (i, t) in types.iter().enumerate() {
        if let TypeDef::Struct { name, fields, .. } = t {
            for (j, f) in fields.iter().enumerate() {
                if let TypeRef::Named(n) = resolve_alias(types, &f.ty) {
                    if reaches(types, n, name) {
                        to_box.push((i, j));
                    }
                }
            }
        }
    }
    for (i, j) in to_box {
        if let TypeDef::Struct { fields, .. } = &mut types[i] {
            fields[j].boxed = true;
        }
    }
}

/// The variant name of an enum value: its Pascal case, or for a value
/// without letters or digits a name for it (`""` → `Empty`, `*` → `Star`).
fn variant_name(wire: &str) -> String {
    if wire.chars().any(|c| c.is_ascii_alphanumeric()) {
        return naming::pascal(wire);
    }
    if wire.is_empty() {
        return "Empty".into();
    }
    let names: Vec<&str> = wire
        .chars()
        .map(|c| match c {
            '*' => "Star",
            '-' => "Dash",
            '+' => "Plus",
            '.' => "Dot",
            '/' => "Slash",
            '_' => "Underscore",
            '?' => "Question",
            '!' => "Bang",
            '=' => "Equals",
            '#' => "Hash",
            '@' => "At",
            '%' => "Percent",
            ' ' => "Space",
            _ => "Symbol",
        })
        .collect();
    names.concat()
}
