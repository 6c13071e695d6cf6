//! The official document as Prism gets it, and its routes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

use serde_json::Value;

use super::API_PREFIX;

/// Number of literal (non-template) characters of a path.
pub(super) fn literal_len(path: &str) -> usize {
    let mut n = 0;
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => n += 1,
            _ => {}
        }
    }
    n
}

/// Prism's copy of the document, and what was changed in it.
pub(super) struct Prepared {
    /// The paths, relative to `/rest/v0`.
    pub(super) templates: Vec<String>,
    /// The schemas repaired for Prism: `(kind, JSON pointer)`.
    pub(super) repairs: Vec<(&'static str, String)>,
    /// Operations (`GET /hosts/{id}`) using a repaired schema, with the
    /// kinds of repair: without them, Prism checks none of their bodies.
    pub(super) affected: BTreeMap<String, BTreeSet<&'static str>>,
}

/// Repair of the "branded" strings, see [`is_branded`].
pub(super) const BRANDED: &str = "branded-string";
/// Repair of `nullable` without `type`, see [`repair_nullable`].
pub(super) const NULLABLE: &str = "nullable-without-type";

/// A TypeScript "branded" string as the document renders it:
/// `allOf: [{type: string}, {type: object, properties: {undefined: …},
/// required: [null]}]`. No JSON value is both a string and an object, and
/// Prism's validator (ajv) refuses the schema (`required` items must be
/// strings), after which Prism skips the whole body, silently. XO sends these
/// values as plain strings (ids): Prism's copy has `{type: string}`.
fn is_branded(schema: &Value) -> bool {
    let Some(all) = schema["allOf"].as_array() else {
        return false;
    };
    all.len() == 2
        && all.iter().any(|s| s["type"] == "string")
        && all.iter().any(|s| {
            s["type"] == "object"
                && s["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(Value::is_null))
        })
}

/// `nullable: true` on a schema without `type` (an `anyOf` of the other
/// types, from TypeScript's `T | U | null`): ajv refuses to compile it
/// (`"nullable" cannot be used without "type"`) and Prism then skips the
/// whole body. (An `allOf` is merged by Prism first and gets a type.) Prism's
/// copy reads it as XO means it: `anyOf: [<schema>, {type: null}]`.
fn repair_nullable(v: &mut Value, pointer: &mut String, out: &mut Vec<(&'static str, String)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&pointer_token(k));
                repair_nullable(child, pointer, out);
                pointer.truncate(len);
            }
            if m.get("nullable") == Some(&Value::Bool(true))
                && !m.contains_key("type")
                && !m.contains_key("allOf")
            {
                m.remove("nullable");
                let inner = Value::Object(std::mem::take(m));
                m.insert(
                    "anyOf".into(),
                    serde_json::json!([inner, { "type": "null" }]),
                );
                out.push((NULLABLE, pointer.clone()));
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                repair_nullable(child, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// `~` and `/` escaped for a JSON pointer.
pub(super) fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Names of the component schemas a JSON value refers to.
fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.insert(name.to_string());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Writes Prism's copy of the document:
/// - paths relative to `/rest/v0` (a prefixed document is accepted too),
///   ordered by increasing number of literal characters: Prism ranks
///   equally scored templates by reverse document order, so
///   `/vms/{id}.{format}` (more literal) wins over `/vms/{id}` for
///   `/vms/x.xva`, as in XO's router;
/// - "branded" strings (see [`is_branded`]) replaced by `{type: string}`.
pub(super) fn prepare_spec(src: &Path, dest: &Path) -> io::Result<Prepared> {
    let text = fs::read(src)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", src.display())))?;
    let mut doc: Value = serde_json::from_slice(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a JSON OpenAPI document: {e}", src.display()),
        )
    })?;
    let mut repairs = Vec::new();
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if is_branded(schema) {
                *schema = serde_json::json!({ "type": "string" });
                repairs.push((
                    BRANDED,
                    format!("#/components/schemas/{}", pointer_token(name)),
                ));
            }
        }
    }
    for part in ["components", "paths"] {
        let mut pointer = format!("#/{part}");
        if let Some(v) = doc.get_mut(part) {
            repair_nullable(v, &mut pointer, &mut repairs);
        }
    }
    let (Some(top), Some(paths)) = (doc.as_object(), doc["paths"].as_object()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} has no paths", src.display()),
        ));
    };
    let prefixed = paths
        .keys()
        .all(|p| p == API_PREFIX || p.starts_with(&format!("{API_PREFIX}/")));
    let mut entries: Vec<(String, &Value)> = paths
        .iter()
        .map(|(p, v)| {
            let p = if prefixed {
                &p[API_PREFIX.len()..]
            } else {
                p.as_str()
            };
            (
                if p.is_empty() {
                    "/".to_string()
                } else {
                    p.to_string()
                },
                v,
            )
        })
        .collect();
    entries.sort_by(|a, b| (literal_len(&a.0), &a.0).cmp(&(literal_len(&b.0), &b.0)));
    let affected = affected_operations(&doc, &entries, &repairs);
    let mut out = Vec::with_capacity(text.len() + 1024);
    out.push(b'{');
    for (k, v) in top.iter().filter(|(k, _)| k.as_str() != "paths") {
        serde_json::to_writer(&mut out, k)?;
        out.push(b':');
        serde_json::to_writer(&mut out, v)?;
        out.push(b',');
    }
    out.extend_from_slice(b"\"paths\":{");
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, k)?;
        out.push(b':');
        serde_json::to_writer(&mut out, v)?;
    }
    out.extend_from_slice(b"}}");
    fs::write(dest, out)?;
    Ok(Prepared {
        templates: entries.into_iter().map(|(p, _)| p).collect(),
        repairs,
        affected,
    })
}

/// The operations (`METHOD /template`) whose schemas reach a repaired one,
/// with the kinds of repair.
fn affected_operations(
    doc: &Value,
    paths: &[(String, &Value)],
    repairs: &[(&'static str, String)],
) -> BTreeMap<String, BTreeSet<&'static str>> {
    let schemas = doc["components"]["schemas"].as_object();
    // Component name -> kinds of repair inside it.
    let mut repaired: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for (kind, pointer) in repairs {
        if let Some(rest) = pointer.strip_prefix("#/components/schemas/") {
            let name = rest.split('/').next().unwrap_or(rest);
            let name = name.replace("~1", "/").replace("~0", "~");
            repaired.entry(name).or_default().insert(kind);
        }
    }
    let mut out: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for (path, item) in paths {
        let Some(ops) = item.as_object() else {
            continue;
        };
        for (method, op) in ops {
            let key = format!("{} {path}", method.to_ascii_uppercase());
            let mut kinds = BTreeSet::new();
            // Inline repairs in the operation itself.
            let inline = format!("#/paths/{}/{method}/", pointer_token(path));
            kinds.extend(
                repairs
                    .iter()
                    .filter(|(_, p)| p.starts_with(&inline))
                    .map(|(k, _)| *k),
            );
            let mut seen = BTreeSet::new();
            let mut todo = BTreeSet::new();
            refs(op, &mut todo);
            while let Some(name) = todo.pop_first() {
                if !seen.insert(name.clone()) {
                    continue;
                }
                if let Some(k) = repaired.get(&name) {
                    kinds.extend(k.iter().copied());
                }
                if let Some(s) = schemas.and_then(|s| s.get(&name)) {
                    refs(s, &mut todo);
                }
            }
            if !kinds.is_empty() {
                out.insert(key, kinds);
            }
        }
    }
    out
}

/// The path templates of the document, to name the operation of a route.
pub(super) struct Templates(pub(super) Vec<String>);

impl Templates {
    /// The most literal template matching `route` (as Prism picks it).
    pub(super) fn find(&self, route: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|t| template_matches(t, route))
            .max_by_key(|t| literal_len(t))
            .map(String::as_str)
    }
}

fn template_matches(template: &str, route: &str) -> bool {
    let (t, r): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), route.split('/').collect());
    t.len() == r.len() && t.iter().zip(&r).all(|(t, r)| segment_matches(t, r))
}

/// `{x}` matches anything (as in Prism), literals must appear in order.
fn segment_matches(template: &str, seg: &str) -> bool {
    let mut literals = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        literals.push(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => rest = &rest[open + close + 1..],
            None => return template == seg,
        }
    }
    if literals.is_empty() {
        return template == seg;
    }
    let last = rest;
    let first = literals[0];
    if !seg.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    for lit in &literals[1..] {
        match seg[pos..].find(lit) {
            Some(i) => pos += i + lit.len(),
            None => return false,
        }
    }
    seg.len() >= pos + last.len() && seg.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_literal_paths_come_last() {
        assert!(literal_len("/vms/{id}.{format}") > literal_len("/vms/{id}"));
        let dir = std::env::temp_dir().join(format!("xo-sim-prism-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let src = dir.join("in.json");
        fs::write(
            &src,
            r#"{"openapi":"3.0.0","paths":{"/rest/v0/vms/{id}.{format}":{},"/rest/v0/vms/{id}":{},"/rest/v0/vms":{}}}"#,
        )
        .unwrap();
        let out = dir.join("out.json");
        let prepared = prepare_spec(&src, &out).unwrap();
        assert_eq!(
            prepared.templates,
            ["/vms", "/vms/{id}", "/vms/{id}.{format}"]
        );
        let text = fs::read_to_string(&out).unwrap();
        let a = text.find("\"/vms/{id}\"").unwrap();
        let b = text.find("\"/vms/{id}.{format}\"").unwrap();
        assert!(a < b, "{text}");
        assert!(text.contains("\"openapi\":\"3.0.0\""));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn branded_strings_are_repaired_and_their_operations_listed() {
        let dir = std::env::temp_dir().join(format!("xo-sim-prism-brand-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let src = dir.join("in.json");
        fs::write(
            &src,
            r##"{"paths":{"/tasks/{id}":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Task"}}}}}}},"/vms":{"get":{}}},
               "components":{"schemas":{
                 "Task":{"properties":{"tasks":{"items":{"$ref":"#/components/schemas/Sub"}}}},
                 "Sub":{"properties":{"id":{"$ref":"#/components/schemas/Branded_task_"}}},
                 "Branded_task_":{"allOf":[{"type":"string"},{"properties":{"undefined":{"type":"string","enum":["task"]}},"required":[null],"type":"object"}]}}}}"##,
        )
        .unwrap();
        let out = dir.join("out.json");
        let p = prepare_spec(&src, &out).unwrap();
        assert_eq!(
            p.repairs,
            [(BRANDED, "#/components/schemas/Branded_task_".to_string())]
        );
        assert_eq!(
            p.affected.into_iter().collect::<Vec<_>>(),
            [("GET /tasks/{id}".to_string(), BTreeSet::from([BRANDED]))]
        );
        let copy: Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
        assert_eq!(
            copy["components"]["schemas"]["Branded_task_"],
            serde_json::json!({"type": "string"})
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn nullable_without_type_becomes_an_any_of_with_null() {
        let mut doc = serde_json::json!({
            "components": {"schemas": {"Body": {"properties": {
                "a": {"anyOf": [{"type": "number"}, {"type": "string"}], "nullable": true},
                "b": {"type": "string", "nullable": true},
                "c": {"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true}
            }}}}
        });
        let mut out = Vec::new();
        repair_nullable(
            &mut doc["components"],
            &mut "#/components".to_string(),
            &mut out,
        );
        assert_eq!(
            out,
            [(
                NULLABLE,
                "#/components/schemas/Body/properties/a".to_string()
            )]
        );
        let props = &doc["components"]["schemas"]["Body"]["properties"];
        assert_eq!(
            props["a"],
            serde_json::json!({"anyOf": [{"anyOf": [{"type": "number"}, {"type": "string"}]}, {"type": "null"}]})
        );
        assert_eq!(props["b"]["nullable"], true);
        assert_eq!(props["c"]["nullable"], true);
    }

    #[test]
    fn templates_match_like_prism() {
        let t = Templates(vec![
            "/vms".into(),
            "/vms/{id}".into(),
            "/vms/{id}.{format}".into(),
            "/vms/{id}/actions/start".into(),
        ]);
        assert_eq!(t.find("/vms/abc"), Some("/vms/{id}"));
        assert_eq!(t.find("/vms/abc.xva"), Some("/vms/{id}.{format}"));
        assert_eq!(
            t.find("/vms/abc/actions/start"),
            Some("/vms/{id}/actions/start")
        );
        assert_eq!(t.find("/vms/abc/actions/stop"), None);
        assert_eq!(t.find("/"), None);
        assert!(segment_matches("v{x}.{y}z", "va.bz"));
        assert!(!segment_matches("v{x}.{y}z", "vabz"));
    }
}
