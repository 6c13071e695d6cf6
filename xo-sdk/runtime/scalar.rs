//! Rendering a serializable value as the text of a path segment, query value
//! or header, without building a `serde_json::Value` first.
//!
//! The common arguments (strings, integers, booleans, enums, lists of those)
//! are written straight into one `String`; anything else (floats, maps,
//! structs) falls back to `serde_json::to_value` and
//! [`wire::render_scalar`](super::wire::render_scalar), whose output this
//! fast path reproduces exactly. It saves several allocations per call on
//! the hot path of every request.

use std::fmt::{self, Write};

use serde::ser::{self, Impossible, Serialize};

use super::wire;

const NULL: &str = "null is not a valid value here";

/// Render `value` the way [`wire::render_scalar`] renders its JSON form.
pub(crate) fn to_scalar<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let mut out = String::new();
    match value.serialize(Scalar { out: &mut out }) {
        Ok(()) => Ok(out),
        Err(Fail::Message(m)) => Err(m),
        Err(Fail::Fallback) => {
            let v = serde_json::to_value(value).map_err(|e| e.to_string())?;
            wire::into_scalar(v)
        }
    }
}

#[derive(Debug)]
enum Fail {
    /// Not a shape the fast path handles: use the JSON path.
    Fallback,
    /// A real error (null, or the type's own serialization error).
    Message(String),
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fail::Fallback => f.write_str("needs the JSON path"),
            Fail::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Fail {}

impl ser::Error for Fail {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Fail::Message(msg.to_string())
    }
}

struct Scalar<'a> {
    out: &'a mut String,
}

/// Comma-joins the elements of a sequence (nested sequences flatten, as in
/// `render_scalar`).
struct Seq<'a> {
    out: &'a mut String,
    first: bool,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fail> {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        value.serialize(Scalar { out: self.out })
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Fail;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fail> {
        self.element(value)
    }
    fn end(self) -> Result<(), Fail> {
        Ok(())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Fail;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fail> {
        self.element(value)
    }
    fn end(self) -> Result<(), Fail> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Fail;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fail> {
        self.element(value)
    }
    fn end(self) -> Result<(), Fail> {
        Ok(())
    }
}

macro_rules! integer {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name(self, v: $ty) -> Result<(), Fail> {
            let _ = write!(self.out, "{v}");
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for Scalar<'a> {
    type Ok = ();
    type Error = Fail;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Impossible<(), Fail>;
    type SerializeMap = Impossible<(), Fail>;
    type SerializeStruct = Impossible<(), Fail>;
    type SerializeStructVariant = Impossible<(), Fail>;

    fn serialize_bool(self, v: bool) -> Result<(), Fail> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    integer!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
             serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    // serde_json's range rules for 128-bit integers and its float
    // formatting are its own: let it decide.
    fn serialize_i128(self, _: i128) -> Result<(), Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_u128(self, _: u128) -> Result<(), Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Fail> {
        Err(Fail::Fallback)
    }

    fn serialize_char(self, v: char) -> Result<(), Fail> {
        self.out.push(v);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Fail> {
        self.out.push_str(v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_none(self) -> Result<(), Fail> {
        Err(Fail::Message(NULL.into()))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fail> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Fail> {
        Err(Fail::Message(NULL.into()))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Fail> {
        Err(Fail::Message(NULL.into()))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Fail> {
        self.out.push_str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Fail> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Fail> {
        Ok(Seq {
            out: self.out,
            first: true,
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<Seq<'a>, Fail> {
        Ok(Seq {
            out: self.out,
            first: true,
        })
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Seq<'a>, Fail> {
        Ok(Seq {
            out: self.out,
            first: true,
        })
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Fail> {
        Err(Fail::Fallback)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Fail> {
        Err(Fail::Fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn slow<T: Serialize>(v: &T) -> Result<String, String> {
        let v = serde_json::to_value(v).map_err(|e| e.to_string())?;
        wire::render_scalar(&v)
    }

    fn same<T: Serialize>(v: T) {
        assert_eq!(to_scalar(&v), slow(&v));
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Power {
        Running,
        #[allow(dead_code)]
        Halted,
        Custom(String),
    }

    #[derive(Serialize)]
    struct Id(String);

    #[derive(Serialize)]
    struct Pair {
        a: u8,
    }

    #[test]
    fn fast_path_matches_the_json_path() {
        same("plain");
        same("a/b?c#d é");
        same(String::new());
        same(42u8);
        same(-7i64);
        same(u64::MAX);
        same(i128::MAX);
        same(12u128);
        same(true);
        same(false);
        same('x');
        same(1.5f64);
        same(1.1f32);
        same(f64::NAN);
        same(vec!["name_label", "power_state"]);
        same(vec![1, 2, 3]);
        same(vec![vec!["a", "b"], vec![], vec!["c"]]);
        same(Vec::<String>::new());
        same(("a", 1, true));
        same(Some("x"));
        same(None::<String>);
        same(());
        same(Power::Running);
        same(Power::Custom("x".into()));
        same(vec![Power::Running]);
        same(Id("vm-1".into()));
        same(Pair { a: 1 });
        same(vec![Pair { a: 1 }]);
        same(BTreeMap::from([("k", "v")]));
        same(serde_json::json!({"a": [1, {"b": null}]}));
        same(serde_json::json!(null));
        same(serde_json::json!([1, "x", true]));
    }
}
