//! DADL file (+ includes) → overlay → typed model, with located errors.
//!
//! `build.rs` and the CLI both call [`load`], so a file that the CLI accepts
//! is exactly a file the build accepts.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::Document;
use crate::yaml::{self, Located, pointer_token};

/// What to load.
#[derive(Debug, Clone)]
pub struct Input {
    /// The DADL file.
    pub dadl: PathBuf,
    /// Overlays (JSON Merge Patch, RFC 7386, in YAML), applied in order.
    pub overlays: Vec<PathBuf>,
}

impl Input {
    /// A DADL file without overlay.
    pub fn new(dadl: impl Into<PathBuf>) -> Self {
        Input {
            dadl: dadl.into(),
            overlays: Vec::new(),
        }
    }

    /// Add an overlay, applied after the ones added before it.
    pub fn with_overlay(mut self, overlay: impl Into<PathBuf>) -> Self {
        self.overlays.push(overlay.into());
        self
    }

    /// Every file read, for `cargo:rerun-if-changed` (includes resolved).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.dadl.clone()];
        if let Ok(doc) = yaml::parse_file(&self.dadl) {
            for inc in includes_of(&doc.value) {
                files.push(resolve_relative(&self.dadl, &inc.path));
            }
        }
        files.extend(self.overlays.iter().cloned());
        files
    }
}

/// A loaded document plus the location table used for later errors.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The typed model.
    pub document: Document,
    /// Locations of every node of the merged document.
    pub source: Located,
    /// The DADL file name, for errors without a better location.
    pub file: String,
    /// Overlay patches of tools this file lacks, dropped (see
    /// `drop_patches_of_absent_tools`).
    pub skipped: Vec<String>,
}

impl Loaded {
    /// An error located at `pointer` (JSON pointer into the merged document),
    /// naming the tool and field it falls under.
    pub fn error_at(&self, pointer: &str, message: impl Into<String>) -> Error {
        located_error(&self.source, &self.file, pointer, message.into())
    }
}

fn located_error(source: &Located, file: &str, pointer: &str, message: String) -> Error {
    let err = match source.locate(pointer) {
        Some(l) => Error::at(l.clone(), message),
        None => Error::in_file(file, message),
    };
    err.with_pointer(pointer)
}

/// Load, merge and type-check a DADL file.
pub fn load(input: &Input) -> Result<Loaded> {
    let file = input.dadl.display().to_string();
    let mut source = yaml::parse_file(&input.dadl)?;
    resolve_includes(&input.dadl, &mut source)?;
    let mut skipped = Vec::new();
    for overlay_path in &input.overlays {
        let mut overlay = yaml::parse_file(overlay_path)?;
        if !overlay.value.is_object() {
            return Err(Error::in_file(
                overlay_path.display().to_string(),
                "an overlay must be a mapping shaped like a DADL document",
            ));
        }
        skipped.extend(drop_patches_of_absent_tools(
            &source.value,
            &mut overlay.value,
        ));
        merge_patch(&mut source.value, &overlay.value);
        // Nodes the overlay wrote are reported at their place in the overlay.
        source.locations.extend(overlay.locations);
    }
    strip_ignored(&mut source.value, None);
    let document = {
        let de = source.value.clone();
        let mut track = serde_path_to_error::Track::new();
        let result = Document::deserialize(serde_path_to_error::Deserializer::new(&de, &mut track));
        match result {
            Ok(doc) => doc,
            Err(e) => {
                let pointer = path_to_pointer(&track.path());
                return Err(model_error(&source, &file, pointer, e.to_string()));
            }
        }
    };
    Ok(Loaded {
        document,
        source,
        file,
        skipped,
    })
}

/// One overlay serves several releases of a DADL file (ours: XO 6.4 and
/// 6.7), so it may patch a tool that this file does not have. A patch of an
/// absent tool that does not define it whole (no `method`) is dropped and
/// reported, instead of creating a tool without method or path; so is a
/// patch of a parameter the tool lacks that does not define it whole (no
/// `type`). Returns what was dropped (`tool` or `tool.params.name`).
fn drop_patches_of_absent_tools(base: &Value, overlay: &mut Value) -> Vec<String> {
    let present = base.pointer("/backend/tools").and_then(Value::as_object);
    let Some(tools) = overlay
        .pointer_mut("/backend/tools")
        .and_then(Value::as_object_mut)
    else {
        return Vec::new();
    };
    let mut dropped = Vec::new();
    tools.retain(|name, patch| {
        let base_tool = present.and_then(|p| p.get(name));
        let partial = patch.is_object() && patch.get("method").is_none();
        if base_tool.is_none() && partial {
            dropped.push(name.clone());
            return false;
        }
        // The same for a parameter the tool lacks, patched without `type`.
        let base_params = base_tool
            .and_then(|t| t.get("params"))
            .and_then(Value::as_object);
        if let (Some(params), true) = (
            patch.get_mut("params").and_then(Value::as_object_mut),
            partial,
        ) {
            params.retain(|pname, ppatch| {
                let absent = base_params.is_none_or(|b| !b.contains_key(pname));
                let keep = !absent || !ppatch.is_object() || ppatch.get("type").is_some();
                if !keep {
                    dropped.push(format!("{name}.params.{pname}"));
                }
                keep
            });
        }
        true
    });
    dropped
}

/// The error of a document that does not fit the model, at the key concerned.
fn model_error(source: &Located, file: &str, mut pointer: String, mut message: String) -> Error {
    // A tool's `pagination` is read through a JSON value (`none` or an
    // object, see `model::ToolPagination`), which hides the path inside it:
    // read the object again to find the offending key.
    let tokens: Vec<&str> = pointer.split('/').collect();
    if let ["", "backend", "tools", _, "pagination"] = tokens.as_slice() {
        if let Some(v @ Value::Object(_)) = source.value.pointer(&pointer) {
            let mut track = serde_path_to_error::Track::new();
            let inner = crate::model::Pagination::deserialize(
                serde_path_to_error::Deserializer::new(v, &mut track),
            );
            if let Err(e) = inner {
                pointer.push_str(&path_to_pointer(&track.path()));
                message = e.to_string();
            }
        }
    }
    // Name the unknown or missing key as the field (the path ends at the
    // unknown key already, but at the mapping that lacks a missing key).
    // A missing key has no position: the error points at its mapping.
    let key = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|r| r.split('`').next());
    if let Some(key) = key {
        let token = format!("/{}", pointer_token(key));
        if !pointer.ends_with(&token) {
            pointer.push_str(&token);
        }
    }
    located_error(source, file, &pointer, message)
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&pointer_token(key));
            }
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

/// RFC 7386 JSON Merge Patch: objects merge recursively, `null` deletes,
/// everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("made an object above");
            for (k, v) in p {
                if v.is_null() {
                    t.shift_remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Deep merge for includes: objects merge, `over` wins, arrays replace.
fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Keys whose values are free-form data, not DADL structure: `_` keys
/// inside them are data and stay.
const DATA_KEYS: &[&str] = &["types", "returns", "default", "body", "overrides"];

fn strip_ignored(v: &mut Value, parent_key: Option<&str>) {
    if parent_key.is_some_and(|k| DATA_KEYS.contains(&k)) {
        return;
    }
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('_'));
            for (k, child) in map.iter_mut() {
                strip_ignored(child, Some(k));
            }
        }
        Value::Array(items) => {
            for item in items {
                strip_ignored(item, parent_key);
            }
        }
        _ => {}
    }
}

struct IncludeRef {
    path: String,
    merge_into: String,
    overrides: Option<Value>,
}

fn includes_of(doc: &Value) -> Vec<IncludeRef> {
    doc.get("includes")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some(IncludeRef {
                        path: i.get("path")?.as_str()?.to_owned(),
                        merge_into: i.get("merge_into")?.as_str()?.to_owned(),
                        overrides: i.get("overrides").cloned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn resolve_relative(base: &Path, rel: &str) -> PathBuf {
    base.parent().unwrap_or(Path::new(".")).join(rel)
}

/// Merge `includes` fragments (one level deep, `_fragment: true` required)
/// into their targets. The including document wins over the fragment;
/// `overrides` win over both.
fn resolve_includes(path: &Path, doc: &mut Located) -> Result<()> {
    for (i, inc) in includes_of(&doc.value).into_iter().enumerate() {
        let here = doc.locate(&format!("/includes/{i}")).cloned();
        let file = path.display().to_string();
        let err = |msg: String| match &here {
            Some(l) => Error::at(l.clone(), msg).field(format!("includes.{i}")),
            None => Error::in_file(file.clone(), msg).field(format!("includes.{i}")),
        };
        let frag_path = resolve_relative(path, &inc.path);
        let frag = yaml::parse_file(&frag_path)?;
        let mut frag_value = frag.value;
        match frag_value.as_object_mut() {
            Some(m) if m.get("_fragment") == Some(&Value::Bool(true)) => {
                m.shift_remove("_fragment");
            }
            _ => {
                return Err(err(format!(
                    "{} is not a fragment (`_fragment: true` missing)",
                    inc.path
                )));
            }
        }
        if frag_value.get("includes").is_some() {
            return Err(err(format!(
                "{}: includes are one level deep; a fragment cannot include",
                inc.path
            )));
        }
        let mut target = &mut doc.value;
        for key in inc.merge_into.split('.') {
            let obj = target.as_object_mut().ok_or_else(|| {
                err(format!(
                    "merge_into `{}` crosses a non-mapping",
                    inc.merge_into
                ))
            })?;
            target = obj
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let mut merged = frag_value;
        deep_merge(&mut merged, target);
        if let Some(o) = &inc.overrides {
            deep_merge(&mut merged, o);
        }
        *target = merged;
    }
    if let Some(m) = doc.value.as_object_mut() {
        m.shift_remove("includes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_rfc7386() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 1});
        merge_patch(
            &mut t,
            &json!({"a": {"b": null, "x": 3}, "d": [3], "e": null}),
        );
        assert_eq!(t, json!({"a": {"c": 2, "x": 3}, "d": [3]}));
    }

    #[test]
    fn underscore_keys_are_ignored_but_not_in_data() {
        let mut v = json!({"_x": 1, "backend": {"_y": 2, "types": {"T": {"_z": 3}}}});
        strip_ignored(&mut v, None);
        assert_eq!(v, json!({"backend": {"types": {"T": {"_z": 3}}}}));
    }
}
