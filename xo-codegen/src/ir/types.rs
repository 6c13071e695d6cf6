//! Type nodes of the IR: the Rust types generated from DADL `types` and
//! `returns` (built by [`crate::lower::schema`], printed by the emitter).
//!
//! The generated types are tolerant by design, because a newer server must
//! never break a user's build or run: every struct field is optional (list
//! items carry only the requested fields), unknown fields are kept in a
//! flattened map, and every string enum has an `Unknown(String)` variant.

use serde::Serialize;

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "of", rename_all = "snake_case")]
pub enum TypeRef {
    /// `String`
    String,
    /// `i64`
    Integer,
    /// `f64`
    Number,
    /// `bool`
    Boolean,
    /// Any JSON.
    Value,
    /// `Vec<T>`
    Array(Box<TypeRef>),
    /// `BTreeMap<String, T>`
    Map(Box<TypeRef>),
    /// `Option<T>`: a nullable array item or map value (struct fields are
    /// optional anyway).
    Optional(Box<TypeRef>),
    /// A generated type, by Rust name.
    Named(String),
    /// A reference to an object (`Href<I>`), by the Rust name of its id
    /// type (`x-href`).
    Href(String),
}

/// One struct field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// JSON name.
    pub wire: String,
    /// Rust name.
    pub rust: String,
    /// Type (always wrapped in `Option` by the emitter).
    pub ty: TypeRef,
    /// Description.
    pub doc: Option<String>,
    /// The field is part of a cycle of directly nested structs and is
    /// stored boxed (`Option<Box<T>>`), which gives the type a finite size.
    pub boxed: bool,
}

/// A generated type.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeDef {
    /// An object.
    Struct {
        /// Rust name.
        name: String,
        /// DADL name it came from.
        source: String,
        /// Description.
        doc: Option<String>,
        /// Declared properties.
        fields: Vec<Field>,
        /// Rust name of the flattened map of unknown fields.
        extra: String,
    },
    /// A string enum with an `Unknown(String)` catch-all.
    Enum {
        /// Rust name.
        name: String,
        /// DADL name it came from.
        source: String,
        /// Description.
        doc: Option<String>,
        /// (wire value, variant name).
        variants: Vec<(String, String)>,
    },
    /// The id of one kind of object (`x-id`): a string newtype.
    Id {
        /// Rust name.
        name: String,
        /// DADL name it came from.
        source: String,
        /// Description.
        doc: Option<String>,
        /// The kind of object, as the description names it (`Vm`).
        object: String,
        /// Id types this one can be made from (`x-id-from`): an id that
        /// names one of several kinds (a host or a pool).
        from: Vec<String>,
    },
    /// A named alias of another type expression.
    Alias {
        /// Rust name.
        name: String,
        /// DADL name it came from.
        source: String,
        /// Description.
        doc: Option<String>,
        /// Target.
        ty: TypeRef,
    },
}

impl TypeDef {
    /// Rust name.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Struct { name, .. }
            | TypeDef::Enum { name, .. }
            | TypeDef::Id { name, .. }
            | TypeDef::Alias { name, .. } => name,
        }
    }
}

/// Name of the catch-all enum variant.
pub const UNKNOWN_VARIANT: &str = "Unknown";
