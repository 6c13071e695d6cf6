//! The memory layout of a live store: one row of JSON values per object,
//! one column per selected field.
//!
//! A generated model (`Vm`) has some sixty optional fields and weighs about
//! two kilobytes whatever is selected, so a store of typed models would
//! cost that much per object. A row holds the selected fields only (three
//! fields: three `Value`s and their strings) and is decoded into the model
//! when it is read. Rows are immutable and shared (`Arc`): a snapshot, a
//! change sent to subscribers and the store hold the same row.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The values of one object, in column order; `Null` for a field the
/// object does not have.
pub(crate) type Row = Arc<[Value]>;

/// Every object of a store, by id.
pub(crate) type Rows = HashMap<Arc<str>, Row>;

/// The field names of the store's rows; column 0 is always `id`.
#[derive(Debug, Clone)]
pub(crate) struct Columns(Arc<[&'static str]>);

impl Columns {
    /// `id` first, then each selected name once.
    pub(crate) fn new(selected: impl IntoIterator<Item = &'static str>) -> Columns {
        let mut names = vec!["id"];
        for name in selected {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Columns(names.into())
    }

    pub(crate) fn names(&self) -> &[&'static str] {
        &self.0
    }

    /// The object's id and row, taking the selected fields out of `object`
    /// (no copy); `None` when it has no string id. The id is the row's key,
    /// not one of its values (stored once). Fields outside the selection
    /// (`href` of a list answer) are dropped, so that a listed object and
    /// the same object from an event make the same row.
    pub(crate) fn project(&self, mut object: Map<String, Value>) -> Option<(Arc<str>, Row)> {
        let id: Arc<str> = match object.remove("id") {
            Some(Value::String(id)) if !id.is_empty() => id.into(),
            _ => return None,
        };
        let row: Row = self.0[1..]
            .iter()
            .map(|name| object.remove(*name).unwrap_or(Value::Null))
            .collect();
        Some((id, row))
    }

    /// The object `id` with this row, decoded into the model (or any type
    /// with these fields). Absent (`Null`) fields are left out, which the
    /// generated models read as `None`.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        id: &str,
        row: &[Value],
    ) -> Result<T, serde_json::Error> {
        let id = Value::String(id.to_owned());
        let fields = std::iter::once(("id", &id)).chain(
            self.0[1..]
                .iter()
                .zip(row.iter())
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| (*name, value)),
        );
        T::deserialize(serde::de::value::MapDeserializer::<_, serde_json::Error>::new(fields))
    }
}

/// One difference between two states of a store.
#[derive(Debug, Clone)]
pub(crate) enum Diff {
    Added(Arc<str>, Row),
    Updated(Arc<str>, Row, Row),
    Removed(Arc<str>, Row),
}

/// What changed from `old` to `new`, as events would have said it.
pub(crate) fn diff(old: &Rows, new: &Rows) -> Vec<Diff> {
    let mut out = Vec::new();
    for (id, row) in new {
        match old.get(id) {
            None => out.push(Diff::Added(id.clone(), row.clone())),
            Some(before) if before != row => {
                out.push(Diff::Updated(id.clone(), before.clone(), row.clone()));
            }
            Some(_) => {}
        }
    }
    for (id, row) in old {
        if !new.contains_key(id) {
            out.push(Diff::Removed(id.clone(), row.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn columns_put_id_first_once() {
        let c = Columns::new(["name_label", "id", "name_label", "power_state"]);
        assert_eq!(c.names(), ["id", "name_label", "power_state"]);
    }

    #[test]
    fn projection_keeps_the_selection_only() {
        let c = Columns::new(["name_label", "power_state"]);
        let (id, row) = c
            .project(object(
                json!({"id": "a", "href": "/x", "name_label": "web", "other": 1}),
            ))
            .unwrap();
        assert_eq!(&*id, "a");
        assert_eq!(&*row, &[json!("web"), Value::Null]);
        assert!(c.project(object(json!({"name_label": "no id"}))).is_none());
        assert!(c.project(object(json!({"id": 7}))).is_none());
        assert!(c.project(object(json!({"id": ""}))).is_none());
    }

    #[test]
    fn rows_decode_into_models() {
        let c = Columns::new(["name_label", "power_state"]);
        let (_, row) = c
            .project(object(json!({"id": "a", "name_label": "web"})))
            .unwrap();
        let vm: crate::types::Vm = c.decode("a", &row).unwrap();
        assert_eq!(vm.name_label.as_deref(), Some("web"));
        assert_eq!(vm.id.as_ref().map(|i| i.as_str()), Some("a"));
        assert!(vm.power_state.is_none());
        let (_, bad) = c
            .project(object(json!({"id": "a", "name_label": 5})))
            .unwrap();
        assert!(c.decode::<crate::types::Vm>("a", &bad).is_err());
    }

    #[test]
    fn diff_names_every_difference() {
        let c = Columns::new(["v"]);
        let rows = |items: &[(&str, i64)]| -> Rows {
            items
                .iter()
                .filter_map(|(id, v)| c.project(object(json!({"id": id, "v": v}))))
                .collect()
        };
        let old = rows(&[("a", 1), ("b", 2), ("c", 3)]);
        let new = rows(&[("a", 1), ("b", 20), ("d", 4)]);
        let mut names: Vec<String> = diff(&old, &new)
            .into_iter()
            .map(|d| match d {
                Diff::Added(id, _) => format!("+{id}"),
                Diff::Updated(id, _, _) => format!("~{id}"),
                Diff::Removed(id, _) => format!("-{id}"),
            })
            .collect();
        names.sort();
        assert_eq!(names, ["+d", "-c", "~b"]);
    }
}
