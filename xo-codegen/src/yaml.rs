//! YAML → JSON value plus a side table of source locations.
//!
//! We parse with `yaml-rust2`'s event API (maintained, pure Rust, YAML 1.2)
//! instead of a serde YAML crate: serde_yaml is archived, and its forks lose
//! positions once a document is merged with an overlay. Building the JSON
//! value ourselves lets us keep a `pointer → line:column` table for every
//! node, reject duplicate keys (YAML allows the parser to keep the last one
//! silently), and resolve anchors, aliases and `<<` merge keys.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};
use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::{Error, Location};

/// A parsed document: its value and where each node came from.
#[derive(Debug, Clone, Default)]
pub struct Located {
    /// The document as JSON.
    pub value: Value,
    /// JSON pointer (`/backend/tools/x`) → location of the node (for a
    /// mapping entry: of its key).
    pub locations: HashMap<String, Location>,
}

impl Located {
    /// The location recorded for `pointer`, or for its nearest ancestor.
    pub fn locate(&self, pointer: &str) -> Option<&Location> {
        let mut p = pointer;
        loop {
            if let Some(l) = self.locations.get(p) {
                return Some(l);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Escape one JSON-pointer token (RFC 6901).
pub fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        pointer: String,
    },
    Map {
        map: Map<String, Value>,
        anchor: usize,
        pointer: String,
        pending_key: Option<(String, Marker)>,
        /// Values of `<<` merge keys, applied under explicit keys at the end.
        merges: Vec<Value>,
    },
}

struct Builder<'a> {
    file: &'a str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    root: Option<Value>,
    locations: HashMap<String, Location>,
    error: Option<Error>,
}

impl Builder<'_> {
    fn loc(&self, m: Marker) -> Location {
        Location {
            file: self.file.to_owned(),
            line: m.line(),
            column: m.col() + 1,
        }
    }

    /// The pointer of the node about to be produced.
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { items, pointer, .. }) => format!("{pointer}/{}", items.len()),
            Some(Frame::Map {
                pointer,
                pending_key: Some((k, _)),
                ..
            }) => format!("{pointer}/{}", pointer_token(k)),
            Some(Frame::Map { pointer, .. }) => pointer.clone(),
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                pending_key: None,
                ..
            })
        )
    }

    fn fail(&mut self, m: Marker, msg: String) {
        if self.error.is_none() {
            self.error = Some(Error::at(self.loc(m), msg));
        }
    }

    /// Deliver a finished value to its parent.
    fn push_value(&mut self, v: Value, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, v.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(v),
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map {
                map,
                pending_key,
                merges,
                ..
            }) => match pending_key.take() {
                Some((k, _)) if k == "<<" => merges.push(v),
                Some((k, _)) => {
                    // Duplicates were rejected at the key.
                    map.insert(k, v);
                }
                None => unreachable!("keys are handled in on_scalar"),
            },
        }
    }
}

fn scalar_value(s: String, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::String(s);
    }
    match Yaml::from_str(&s) {
        Yaml::Integer(i) => Value::from(i),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(s), Value::Number),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Null => Value::Null,
        _ => Value::String(s),
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, m: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(s, style, anchor, _tag) => {
                if self.expecting_key() {
                    let pointer = self.child_pointer();
                    let loc = self.loc(m);
                    let p = format!("{pointer}/{}", pointer_token(&s));
                    let duplicate = s != "<<"
                        && matches!(self.stack.last(), Some(Frame::Map { map, .. }) if map.contains_key(&s));
                    if duplicate {
                        // Caught at the second key, while the first one's
                        // position is still in the table.
                        let first = self
                            .locations
                            .get(&p)
                            .map(|l| format!(" (first at line {})", l.line))
                            .unwrap_or_default();
                        self.error = Some(
                            Error::at(loc, format!("duplicate key `{s}`{first}")).with_pointer(&p),
                        );
                        return;
                    }
                    if let Some(Frame::Map { pending_key, .. }) = self.stack.last_mut() {
                        self.locations.insert(p, loc);
                        *pending_key = Some((s, m));
                    }
                    return;
                }
                let pointer = self.child_pointer();
                let loc = self.loc(m);
                self.locations.entry(pointer).or_insert(loc);
                let v = scalar_value(s, style);
                self.push_value(v, anchor);
            }
            Event::Alias(id) => {
                if self.expecting_key() {
                    self.fail(m, "aliases cannot be used as mapping keys".into());
                    return;
                }
                match self.anchors.get(&id).cloned() {
                    Some(v) => self.push_value(v, 0),
                    None => self.fail(m, "alias to an unknown anchor".into()),
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.expecting_key() {
                    self.fail(m, "complex mapping keys are not supported".into());
                    return;
                }
                let pointer = self.child_pointer();
                let loc = self.loc(m);
                self.locations.entry(pointer.clone()).or_insert(loc);
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        pointer,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        anchor,
                        pointer,
                        pending_key: None,
                        merges: Vec::new(),
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor, .. }) = self.stack.pop() {
                    self.push_value(Value::Array(items), anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut map,
                    anchor,
                    merges,
                    ..
                }) = self.stack.pop()
                {
                    // Explicit keys win over merged ones; earlier merges win
                    // over later ones (YAML merge-key semantics).
                    for merged in merges {
                        let sources = match merged {
                            Value::Array(items) => items,
                            other => vec![other],
                        };
                        for src in sources {
                            if let Value::Object(src) = src {
                                for (k, v) in src {
                                    map.entry(k).or_insert(v);
                                }
                            } else {
                                self.fail(m, "`<<` must merge a mapping".into());
                            }
                        }
                    }
                    self.push_value(Value::Object(map), anchor);
                }
            }
            Event::DocumentStart if self.root.is_some() => {
                self.fail(m, "a DADL file holds exactly one YAML document".into());
            }
            _ => {}
        }
    }
}

/// Parse `text` (read from `file`, used in locations) into a located value.
pub fn parse(text: &str, file: &str) -> Result<Located, Error> {
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        locations: HashMap::new(),
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let m = e.marker();
        // The node being read when the parser gave up names the tool and
        // field, which the parser's position alone does not.
        let context = builder.child_pointer();
        return Err(Error::at(
            Location {
                file: file.to_owned(),
                line: m.line(),
                column: m.col() + 1,
            },
            format!("invalid YAML: {}", e.info()),
        )
        .with_pointer(&context));
    }
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(Located {
        value: builder.root.unwrap_or(Value::Null),
        locations: builder.locations,
    })
}

/// Read and parse a file.
pub fn parse_file(path: &Path) -> Result<Located, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{name}: cannot read: {e}")))?;
    parse(&text, &name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_and_locations() {
        let doc = "a: 1\nb:\n  c: [true, 'x', 2.5, ~]\n";
        let l = parse(doc, "f.yaml").unwrap();
        assert_eq!(l.value, json!({"a": 1, "b": {"c": [true, "x", 2.5, null]}}));
        let loc = l.locate("/b/c/1").unwrap();
        assert_eq!((loc.line, loc.column), (3, 13));
        let key = l.locate("/b").unwrap();
        assert_eq!((key.line, key.column), (2, 1));
    }

    #[test]
    fn duplicate_keys_fail() {
        let e = parse("a: 1\nb: 2\na: 3\n", "f.yaml").unwrap_err();
        assert!(e.to_string().contains("f.yaml:3:1"), "{e}");
        assert!(e.to_string().contains("duplicate key `a`"), "{e}");
    }

    #[test]
    fn anchors_and_merge_keys() {
        let doc = "_d: &d {x: 1, y: 2}\nm:\n  <<: *d\n  y: 3\nn: *d\n";
        let l = parse(doc, "f").unwrap();
        assert_eq!(l.value["m"], json!({"x": 1, "y": 3}));
        assert_eq!(l.value["n"], json!({"x": 1, "y": 2}));
    }

    #[test]
    fn bad_yaml_has_position() {
        let e = parse("a: [1, 2\nb: 3\n", "bad.yaml").unwrap_err();
        assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
    }
}
