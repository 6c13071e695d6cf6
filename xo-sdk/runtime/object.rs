//! Typed names of objects and of their fields: the traits and wrappers that
//! generated id types, hrefs and field constants are built on.
//!
//! The generator emits one id type per kind of object that the API
//! description declares (`x-id` in DADL `types`), and one [`Field`]
//! constant per field of every collection item. This module holds what they
//! share, so a mistake (a pool id where a template id is expected, a field
//! of the wrong model, a field that does not exist) is a compile error.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// An object id as the API sends it: a generated id type (`VmId`, `PoolId`,
/// …) or, where the description declares no kind, a plain `String`.
///
/// Build a generated id from text explicitly with its `new`
/// (`VmId::new("0b7c…")`); this trait is what the runtime needs to read one
/// from a reference or an answer.
pub trait Id:
    Clone + fmt::Debug + fmt::Display + Send + Sync + Serialize + DeserializeOwned + 'static
{
    /// Wrap an id read from the wire (an href's last segment, a created
    /// object's id). Not a way to make ids from arbitrary text: use the id
    /// type's `new`, which says so at the call site.
    #[doc(hidden)]
    fn from_wire(id: String) -> Self;

    /// The id as sent on the wire.
    fn as_str(&self) -> &str;
}

impl Id for String {
    fn from_wire(id: String) -> Self {
        id
    }

    fn as_str(&self) -> &str {
        self
    }
}

/// A reference to an object, as a collection lists it by default:
/// `/rest/v0/vms/0b7c…`, typed by the id it carries (`Href<VmId>`).
pub struct Href<I = String> {
    path: String,
    id: PhantomData<fn() -> I>,
}

impl<I> Href<I> {
    /// Wrap an href as the server sent it.
    pub fn new(path: impl Into<String>) -> Self {
        Href {
            path: path.into(),
            id: PhantomData,
        }
    }

    /// The href as sent (`/rest/v0/vms/<id>`).
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// The id as text: the last path segment.
    pub fn id_str(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The collection: the segment before the id (`vms`).
    pub fn collection(&self) -> Option<&str> {
        let mut segments = self.path.rsplit('/');
        segments.next()?;
        segments.next().filter(|s| !s.is_empty())
    }
}

impl<I: Id> Href<I> {
    /// The typed id of the object: the last path segment.
    pub fn id(&self) -> I {
        I::from_wire(self.id_str().to_owned())
    }
}

impl<I> Clone for Href<I> {
    fn clone(&self) -> Self {
        Href::new(self.path.clone())
    }
}

impl<I> fmt::Debug for Href<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Href").field(&self.path).finish()
    }
}

impl<I> fmt::Display for Href<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

impl<I> PartialEq for Href<I> {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl<I> Eq for Href<I> {}

impl<I> Hash for Href<I> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.path.hash(state);
    }
}

impl<I> PartialOrd for Href<I> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<I> Ord for Href<I> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.path.cmp(&other.path)
    }
}

impl<I> Serialize for Href<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.path)
    }
}

impl<'de, I> Deserialize<'de> for Href<I> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Href::new)
    }
}

/// A field of the model `T`, by the name the API uses on the wire
/// (`Vm::NAME_LABEL` is `name_label`, `Vm::CPUS` is `CPUs`, `Vm::POOL` is
/// `$pool`). Collections take these in `select`, so a misspelt field or a
/// field of another model does not compile.
pub struct Field<T> {
    name: &'static str,
    model: PhantomData<fn() -> T>,
}

impl<T> Field<T> {
    /// A field constant; generated code only (use the model's constants).
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        Field {
            name,
            model: PhantomData,
        }
    }

    /// A field the API description does not declare (XO adds fields
    /// faster than descriptions follow). Nothing checks that it exists:
    /// the object decodes it into the model's `unknown_fields`.
    pub const fn unchecked(name: &'static str) -> Self {
        Field::new(name)
    }

    /// The wire name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> Clone for Field<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Field<T> {}

impl<T> PartialEq for Field<T> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<T> Eq for Field<T> {}

impl<T> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Field({})", self.name)
    }
}

impl<T> fmt::Display for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A field constant is accepted wherever a property name is, such as
/// `Filter::eq(Vm::POWER_STATE, "Running")`.
impl<T> From<Field<T>> for String {
    fn from(field: Field<T>) -> String {
        field.name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn href_parts() {
        let h: Href = Href::new("/rest/v0/vms/0b7c2b5c-9f6a");
        assert_eq!(h.id(), "0b7c2b5c-9f6a");
        assert_eq!(h.collection(), Some("vms"));
        assert_eq!(Href::<String>::new("x").collection(), None);
        let back: Href = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
    }
}
