//! Filter quoting round trip: a `Filter` built from arbitrary properties,
//! values and numbers is rendered, parsed back with a port of XO's
//! complex-matcher grammar (`@xen-orchestra/complex-matcher`, below), and
//! must give the same tree; so every quoted value is read back exactly and
//! no metacharacter of a value leaks into the syntax. Empty `And`/`Or` and
//! non-finite numbers are not generated (they have no matcher syntax).
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use xo_sdk::xo::{Cmp, Filter};

/// The complex-matcher tree (with XO's `createAnd`/`createOr`: one child
/// stands for itself).
#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Property(String, Box<Node>),
    String(String),
    Number(&'static str, f64),
}

fn and(mut children: Vec<Node>) -> Node {
    if children.len() == 1 {
        children.pop().unwrap()
    } else {
        Node::And(children)
    }
}

fn or(mut children: Vec<Node>) -> Node {
    if children.len() == 1 {
        children.pop().unwrap()
    } else {
        Node::Or(children)
    }
}

/// A recursive-descent port of XO's grammar:
///
/// ```text
/// and          = terms
/// terms        = term+
/// term         = ws (groupedAnd | or | not | property | number | string) ws
/// groupedAnd   = "(" terms ")"
/// or           = "|" ws "(" terms ")"
/// not          = "!" term
/// property     = string ws ":" term
/// number       = /[<>]=?/ rawString
/// string       = quotedString | rawString
/// quotedString = "\"" ( /[^"\\]/ | "\\" any )* "\""
/// rawString    = /[a-z0-9-_.$]+/i
/// ```
struct Parser<'a> {
    s: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: char) -> bool {
        let ok = self.peek() == Some(c);
        if ok {
            self.i += 1;
        }
        ok
    }
    fn ws(&mut self) {
        while self.eat(' ') {}
    }
    fn terms(&mut self) -> Option<Vec<Node>> {
        let mut terms = vec![self.term()?];
        while let Some(t) = self.term() {
            terms.push(t);
        }
        Some(terms)
    }
    fn term(&mut self) -> Option<Node> {
        let start = self.i;
        self.ws();
        let node = self
            .backtrack(Self::grouped_and)
            .or_else(|| self.backtrack(Self::or))
            .or_else(|| self.backtrack(Self::not))
            .or_else(|| self.backtrack(Self::property))
            .or_else(|| self.backtrack(Self::number))
            .or_else(|| self.backtrack(|p| p.string().map(Node::String)));
        match node {
            Some(n) => {
                self.ws();
                Some(n)
            }
            None => {
                self.i = start;
                None
            }
        }
    }
    fn backtrack(&mut self, f: impl FnOnce(&mut Self) -> Option<Node>) -> Option<Node> {
        let start = self.i;
        let node = f(self);
        if node.is_none() {
            self.i = start;
        }
        node
    }
    fn grouped_and(&mut self) -> Option<Node> {
        if !self.eat('(') {
            return None;
        }
        let terms = self.terms()?;
        self.eat(')').then(|| and(terms))
    }
    fn or(&mut self) -> Option<Node> {
        if !self.eat('|') {
            return None;
        }
        self.ws();
        if !self.eat('(') {
            return None;
        }
        let terms = self.terms()?;
        self.eat(')').then(|| or(terms))
    }
    fn not(&mut self) -> Option<Node> {
        if !self.eat('!') {
            return None;
        }
        Some(Node::Not(Box::new(self.term()?)))
    }
    fn property(&mut self) -> Option<Node> {
        let name = self.string()?;
        self.ws();
        if !self.eat(':') {
            return None;
        }
        Some(Node::Property(name, Box::new(self.term()?)))
    }
    fn number(&mut self) -> Option<Node> {
        let op = if self.eat('>') {
            if self.eat('=') { ">=" } else { ">" }
        } else if self.eat('<') {
            if self.eat('=') { "<=" } else { "<" }
        } else {
            return None;
        };
        let raw = self.raw_string()?;
        // XO reads it with `+raw` and refuses NaN.
        let n: f64 = raw.parse().ok()?;
        Some(Node::Number(op, n))
    }
    fn string(&mut self) -> Option<String> {
        self.quoted_string().or_else(|| self.raw_string())
    }
    fn quoted_string(&mut self) -> Option<String> {
        let start = self.i;
        if !self.eat('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    self.i = start;
                    return None;
                }
                Some('"') => {
                    self.i += 1;
                    return Some(value);
                }
                Some('\\') => {
                    self.i += 1;
                    let Some(c) = self.peek() else {
                        self.i = start;
                        return None;
                    };
                    self.i += 1;
                    value.push(c);
                }
                Some(c) => {
                    self.i += 1;
                    value.push(c);
                }
            }
        }
    }
    fn raw_string(&mut self) -> Option<String> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || "-_.$".contains(c)) {
            self.i += 1;
        }
        (self.i > start).then(|| self.s[start..self.i].iter().collect())
    }
}

/// The whole text as one expression, or `None` if XO would refuse it.
fn parse(text: &str) -> Option<Node> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { s: &chars, i: 0 };
    let terms = p.terms()?;
    (p.i == chars.len()).then(|| and(terms))
}

/// The tree a filter stands for.
fn expected(f: &Filter) -> Node {
    match f {
        Filter::Eq(p, v) => Node::Property(p.clone(), Box::new(Node::String(v.clone()))),
        Filter::Compare(p, op, n) => {
            let op = match op {
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
            };
            Node::Property(p.clone(), Box::new(Node::Number(op, *n)))
        }
        Filter::Not(x) => Node::Not(Box::new(expected(x))),
        Filter::And(xs) => and(xs.iter().map(expected).collect()),
        Filter::Or(xs) => or(xs.iter().map(expected).collect()),
        Filter::Raw(_) => unreachable!("not generated"),
    }
}

/// An arbitrary filter (no `Raw`, no empty `And`/`Or`, finite numbers).
fn filter(u: &mut Unstructured<'_>, depth: u32) -> Result<Filter> {
    let leaf = depth == 0 || u.is_empty();
    Ok(match u.int_in_range(0..=if leaf { 1 } else { 6 })? {
        0 => Filter::eq(text(u)?, text(u)?),
        1 => {
            let p = text(u)?;
            let mut n = f64::arbitrary(u)?;
            if !n.is_finite() {
                n = i64::arbitrary(u)? as f64;
            }
            match u.int_in_range(0..=3)? {
                0 => Filter::gt(p, n),
                1 => Filter::ge(p, n),
                2 => Filter::lt(p, n),
                _ => Filter::le(p, n),
            }
        }
        2 => filter(u, depth - 1)?.not(),
        3 | 4 => filter(u, depth - 1)?.and(filter(u, depth - 1)?),
        5 => filter(u, depth - 1)?.or(filter(u, depth - 1)?),
        _ => {
            let n = u.int_in_range(1..=4)?;
            let xs = (0..n)
                .map(|_| filter(u, depth - 1))
                .collect::<Result<Vec<_>>>()?;
            if bool::arbitrary(u)? {
                Filter::And(xs)
            } else {
                Filter::Or(xs)
            }
        }
    })
}

/// Text biased towards the matcher's metacharacters.
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    const META: &[&str] = &[
        "\"", "\\", " ", "(", ")", "|", "!", ":", ">", "<", "=", ".", "$", "@", "-", "_", "a", "Z",
        "0", "*", "#", "/", "\t", "\n", "é", "",
    ];
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=6)? {
        if bool::arbitrary(u)? {
            s.push_str(u.choose(META)?);
        } else {
            s.push(char::arbitrary(u)?);
        }
    }
    Ok(s)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(f) = filter(&mut u, 4) else {
        return;
    };
    let text = f.to_string();
    let want = expected(&f);
    let got = parse(&text);
    assert_eq!(
        got.as_ref(),
        Some(&want),
        "filter {f:?} rendered as {text:?}"
    );
});
