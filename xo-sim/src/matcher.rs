//! A small implementation of XO's complex-matcher filter syntax.
//!
//! Supported forms:
//!
//! - `word` — any string value of the object (searched recursively) contains
//!   `word`, case-insensitively;
//! - `key:value`, `key:"quoted value"` — the property contains the value
//!   (strings: case-insensitive substring; numbers: equality; arrays: any
//!   element matches, so `tags:prod` tests membership);
//! - `key:>N`, `key:>=N`, `key:<N`, `key:<=N` — numeric comparison, `N` may
//!   use exponent notation (`1e9`);
//! - `key?` — the property is present and truthy;
//! - `key:(…)` — the pattern applies to the property's value (nested objects);
//! - `!pattern` — negation; `( … )` — all must match; `|( … )` — any matches.
//!
//! Unquoted values may contain letters, digits, `_`, `-` and `*`; anything
//! else (such as `@` or `.`) must be quoted, as with the real XO.

use serde_json::Value;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Every child must match.
    And(Vec<Node>),
    /// At least one child must match.
    Or(Vec<Node>),
    /// The child must not match.
    Not(Box<Node>),
    /// The named property must match the pattern.
    Property(String, Box<Node>),
    /// The property is present and truthy.
    Truthy(String),
    /// String or number literal.
    Literal(String),
    /// Numeric comparison.
    Compare(Cmp, f64),
}

/// Comparison operator of a numeric filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// Why a filter could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Human-readable reason.
    pub message: String,
    /// Byte offset where parsing failed.
    pub position: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

impl std::error::Error for ParseError {}

/// Maximum nesting depth accepted, to keep recursion bounded.
const MAX_DEPTH: usize = 64;

/// Parses a filter string.
pub fn parse(input: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        s: input.as_bytes(),
        i: 0,
        depth: 0,
    };
    let nodes = p.terms(false)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected character"));
    }
    Ok(match nodes.len() {
        1 => nodes.into_iter().next().unwrap_or(Node::And(Vec::new())),
        _ => Node::And(nodes),
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

fn is_raw(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'*') || c >= 0x80
}

fn is_key(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'$' | b'.') || c >= 0x80
}

impl Parser<'_> {
    fn err(&self, m: &str) -> ParseError {
        ParseError {
            message: m.to_string(),
            position: self.i,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn terms(&mut self, in_group: bool) -> Result<Vec<Node>, ParseError> {
        let mut out = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                None => {
                    if in_group {
                        return Err(self.err("missing closing parenthesis"));
                    }
                    return Ok(out);
                }
                Some(b')') => {
                    if in_group {
                        self.i += 1;
                        return Ok(out);
                    }
                    return Err(self.err("unexpected closing parenthesis"));
                }
                _ => out.push(self.term()?),
            }
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("filter nested too deeply"));
        }
        Ok(())
    }

    fn term(&mut self) -> Result<Node, ParseError> {
        self.enter()?;
        let r = self.term_inner();
        self.depth -= 1;
        r
    }

    fn term_inner(&mut self) -> Result<Node, ParseError> {
        match self.peek() {
            Some(b'!') => {
                self.i += 1;
                self.ws();
                if matches!(self.peek(), None | Some(b')')) {
                    return Err(self.err("expected a pattern after '!'"));
                }
                Ok(Node::Not(Box::new(self.term()?)))
            }
            Some(b'|') => {
                self.i += 1;
                if self.peek() != Some(b'(') {
                    return Err(self.err("expected '(' after '|'"));
                }
                self.i += 1;
                Ok(Node::Or(self.terms(true)?))
            }
            Some(b'(') => {
                self.i += 1;
                Ok(Node::And(self.terms(true)?))
            }
            Some(b'"') => Ok(Node::Literal(self.quoted()?)),
            Some(c) if is_key(c) => {
                let start = self.i;
                while self.peek().is_some_and(is_key) {
                    self.i += 1;
                }
                let word = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                match self.peek() {
                    Some(b':') => {
                        self.i += 1;
                        let value = self.value()?;
                        Ok(Node::Property(word, Box::new(value)))
                    }
                    Some(b'?') => {
                        self.i += 1;
                        Ok(Node::Truthy(word))
                    }
                    _ => {
                        if word.bytes().all(is_raw) {
                            Ok(Node::Literal(word))
                        } else {
                            Err(ParseError {
                                message: "invalid character in unquoted value".into(),
                                position: start,
                            })
                        }
                    }
                }
            }
            _ => Err(self.err("unexpected character")),
        }
    }

    /// The pattern after `key:`.
    fn value(&mut self) -> Result<Node, ParseError> {
        self.enter()?;
        let r = self.value_inner();
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self) -> Result<Node, ParseError> {
        match self.peek() {
            Some(b'>' | b'<') => {
                let lt = self.peek() == Some(b'<');
                self.i += 1;
                let eq = self.peek() == Some(b'=');
                if eq {
                    self.i += 1;
                }
                let op = match (lt, eq) {
                    (false, false) => Cmp::Gt,
                    (false, true) => Cmp::Ge,
                    (true, false) => Cmp::Lt,
                    (true, true) => Cmp::Le,
                };
                let start = self.i;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
                }) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Node::Compare(op, n)),
                    _ => Err(ParseError {
                        message: "expected a number".into(),
                        position: start,
                    }),
                }
            }
            Some(b'"') => Ok(Node::Literal(self.quoted()?)),
            Some(b'!' | b'(' | b'|') => self.term(),
            Some(c) if is_raw(c) => {
                let start = self.i;
                while self.peek().is_some_and(is_raw) {
                    self.i += 1;
                }
                let word = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                if self.peek() == Some(b':') {
                    // nested property: `a:b:c` means a:(b:c)
                    self.i += 1;
                    let inner = self.value()?;
                    return Ok(Node::Property(word, Box::new(inner)));
                }
                if self
                    .peek()
                    .is_some_and(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b')'))
                {
                    return Err(self.err("invalid character in unquoted value"));
                }
                Ok(Node::Literal(word))
            }
            _ => Err(self.err("expected a value after ':'")),
        }
    }

    fn quoted(&mut self) -> Result<String, ParseError> {
        // at the opening quote
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated quoted string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        None => return Err(self.err("unterminated quoted string")),
                        Some(c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

impl Node {
    /// Does `value` (usually a whole object) match this pattern?
    pub fn matches(&self, value: &Value) -> bool {
        self.matches_depth(value, 0)
    }

    fn matches_depth(&self, value: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH * 2 {
            return false;
        }
        match self {
            Node::And(nodes) => nodes.iter().all(|n| n.matches_depth(value, depth + 1)),
            Node::Or(nodes) => nodes.iter().any(|n| n.matches_depth(value, depth + 1)),
            Node::Not(n) => !n.matches_depth(value, depth + 1),
            Node::Property(key, pattern) => match value {
                Value::Object(map) => map
                    .get(key)
                    .is_some_and(|v| pattern.matches_depth(v, depth + 1)),
                Value::Array(items) => items.iter().any(|v| self.matches_depth(v, depth + 1)),
                _ => false,
            },
            Node::Truthy(key) => match value {
                Value::Object(map) => map.get(key).is_some_and(truthy),
                _ => false,
            },
            Node::Literal(text) => literal_matches(text, value, depth),
            Node::Compare(op, n) => match value {
                Value::Number(x) => x.as_f64().is_some_and(|x| match op {
                    Cmp::Gt => x > *n,
                    Cmp::Ge => x >= *n,
                    Cmp::Lt => x < *n,
                    Cmp::Le => x <= *n,
                }),
                Value::Array(items) => items.iter().any(|v| self.matches_depth(v, depth + 1)),
                _ => false,
            },
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn literal_matches(text: &str, value: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH * 2 {
        return false;
    }
    match value {
        Value::String(s) => s.to_lowercase().contains(&text.to_lowercase()),
        Value::Number(n) => match (text.parse::<f64>(), n.as_f64()) {
            (Ok(a), Some(b)) => a == b,
            _ => false,
        },
        Value::Bool(b) => text.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Null => false,
        Value::Array(items) => items.iter().any(|v| literal_matches(text, v, depth + 1)),
        Value::Object(map) => map.values().any(|v| literal_matches(text, v, depth + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(f: &str, v: &Value) -> bool {
        parse(f).unwrap().matches(v)
    }

    #[test]
    fn basics() {
        let vm = json!({"name_label":"web-01","power_state":"Running","tags":["prod","web"],
            "memory":{"size":4294967296u64},"CPUs":{"number":2},"id":"a-b"});
        assert!(m("power_state:Running", &vm));
        assert!(m("power_state:running", &vm));
        assert!(!m("power_state:Halted", &vm));
        assert!(m("!power_state:Halted", &vm));
        assert!(m("tags:prod", &vm));
        assert!(!m("tags:dev", &vm));
        assert!(m("|(tags:dev tags:web)", &vm));
        assert!(m("(tags:prod power_state:Running)", &vm));
        assert!(!m("(tags:prod power_state:Halted)", &vm));
        assert!(m("memory:(size:>1e9)", &vm));
        assert!(m("CPUs:(number:>=2)", &vm));
        assert!(!m("CPUs:(number:<2)", &vm));
        assert!(m("name_label:\"web-01\"", &vm));
        assert!(m("web", &vm));
        assert!(m("tags?", &vm));
        assert!(!m("nothing?", &vm));
        assert!(m("", &vm));
    }

    #[test]
    fn errors() {
        for bad in [
            "(a", "a)", "|a", "name:", "x:>abc", "a:b@c", "name:\"x", "!", "@",
        ] {
            assert!(parse(bad).is_err(), "{bad} should not parse");
        }
        let deep = "(".repeat(500);
        assert!(parse(&deep).is_err());
    }
}
