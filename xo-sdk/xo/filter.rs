//! A small typed builder for XO's collection filter syntax (the
//! "complex matcher": `power_state:Running`, `!`, `|( )`, `size:>1e9`).
//!
//! Values are quoted whenever they hold anything but letters, digits, `-`
//! and `_`: XO reads an unquoted `@` or `.` as syntax, so
//! `name:bob@example.com` must be sent as `name:"bob@example.com"`.

use std::fmt;

/// Comparison operators for numeric properties.
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

impl Cmp {
    fn as_str(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }
}

/// A filter expression. Its `Display` (and `String` conversion) is the
/// text XO expects in `?filter=`, so it can be passed to any generated
/// `.filter(..)` setter. A property is a model's field constant
/// (`Vm::POWER_STATE`, sent by its wire name) or the property's name as
/// text (also for paths such as `memory.size`).
///
/// ```
/// use xo_sdk::prelude::*;
/// let f = Filter::eq(Vm::POWER_STATE, "Running")
///     .and(Filter::eq("name_label", "web 01"))
///     .and(Filter::gt("memory.size", 4e9).not());
/// assert_eq!(
///     f.to_string(),
///     r#"power_state:Running name_label:"web 01" !memory.size:>4000000000"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `property:value` (for an array property such as `tags`: contains).
    Eq(String, String),
    /// `property:>number` and friends.
    Compare(String, Cmp, f64),
    /// Raw filter text, for syntax the builder does not cover.
    Raw(String),
    /// `!expr`
    Not(Box<Filter>),
    /// `expr expr …` (all must match)
    And(Vec<Filter>),
    /// `|(expr expr …)` (any may match)
    Or(Vec<Filter>),
}

impl Filter {
    /// `property:value`: the property contains the value (a substring
    /// for a string, an element for an array such as `tags`). The value is
    /// quoted unless it is a plain word.
    pub fn eq(property: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::Eq(property.into(), value.into())
    }

    /// `property:>value`.
    pub fn gt(property: impl Into<String>, value: f64) -> Filter {
        Filter::Compare(property.into(), Cmp::Gt, value)
    }

    /// `property:>=value`.
    pub fn ge(property: impl Into<String>, value: f64) -> Filter {
        Filter::Compare(property.into(), Cmp::Ge, value)
    }

    /// `property:<value`.
    pub fn lt(property: impl Into<String>, value: f64) -> Filter {
        Filter::Compare(property.into(), Cmp::Lt, value)
    }

    /// `property:<=value`.
    pub fn le(property: impl Into<String>, value: f64) -> Filter {
        Filter::Compare(property.into(), Cmp::Le, value)
    }

    /// Raw filter text, sent as is.
    pub fn raw(text: impl Into<String>) -> Filter {
        Filter::Raw(text.into())
    }

    /// Both this and `other`.
    pub fn and(self, other: Filter) -> Filter {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            first => Filter::And(vec![first, other]),
        }
    }

    /// This or `other`.
    pub fn or(self, other: Filter) -> Filter {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            first => Filter::Or(vec![first, other]),
        }
    }

    /// Not this.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

/// Write `s` as a matcher string: bare when it is a plain word, quoted
/// (with `\` escapes for `"` and `\`) otherwise.
fn write_value(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain {
        return f.write_str(s);
    }
    f.write_str("\"")?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// Property paths (`memory.size`) are written bare when they are dotted
/// words, quoted otherwise.
fn write_property(f: &mut fmt::Formatter<'_>, p: &str) -> fmt::Result {
    let plain = !p.is_empty()
        && p.split('.').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$')
        });
    if plain {
        f.write_str(p)
    } else {
        write_value(f, p)
    }
}

fn write_number(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        write!(f, "{}", n as i64)
    } else {
        write!(f, "{n}")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Eq(p, v) => {
                write_property(f, p)?;
                f.write_str(":")?;
                write_value(f, v)
            }
            Filter::Compare(p, op, n) => {
                write_property(f, p)?;
                write!(f, ":{}", op.as_str())?;
                write_number(f, *n)
            }
            Filter::Raw(text) => f.write_str(text),
            Filter::Not(inner) => match inner.as_ref() {
                Filter::And(_) => write!(f, "!({inner})"),
                _ => write!(f, "!{inner}"),
            },
            Filter::And(all) => {
                for (i, x) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match x {
                        Filter::And(_) => write!(f, "({x})")?,
                        _ => write!(f, "{x}")?,
                    }
                }
                Ok(())
            }
            Filter::Or(any) => {
                f.write_str("|(")?;
                for (i, x) in any.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match x {
                        Filter::And(_) => write!(f, "({x})")?,
                        _ => write!(f, "{x}")?,
                    }
                }
                f.write_str(")")
            }
        }
    }
}

impl From<Filter> for String {
    fn from(f: Filter) -> String {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            Filter::eq("name", "bob@example.com").to_string(),
            r#"name:"bob@example.com""#
        );
        assert_eq!(
            Filter::eq("name_label", "a.b").to_string(),
            r#"name_label:"a.b""#
        );
        assert_eq!(Filter::eq("tags", "prod").to_string(), "tags:prod");
        assert_eq!(
            Filter::eq("x", r#"say "hi" \o/"#).to_string(),
            r#"x:"say \"hi\" \\o/""#
        );
        assert_eq!(Filter::eq("x", "").to_string(), r#"x:"""#);
        assert_eq!(Filter::eq("$pool", "p-1").to_string(), "$pool:p-1");
    }

    #[test]
    fn combinators() {
        let f = Filter::eq("power_state", "Running").or(Filter::eq("power_state", "Paused"));
        assert_eq!(f.to_string(), "|(power_state:Running power_state:Paused)");
        let g = Filter::eq("a", "1").and(Filter::eq("b", "2")).not();
        assert_eq!(g.to_string(), "!(a:1 b:2)");
        assert_eq!(Filter::gt("size", 1e9).to_string(), "size:>1000000000");
        assert_eq!(Filter::le("cpus", 2.5).to_string(), "cpus:<=2.5");
    }
}
