//! Errors that name file, line:column, tool and field.

use std::fmt;

/// A position in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A generator error. `Display` reads
/// `FILE:LINE:COL: tool `NAME`, field `FIELD`: MESSAGE`. Boxed: errors are
/// rare and `Result`s are everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Details>);

/// What an [`Error`] knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// Where, when known.
    pub location: Option<Location>,
    /// The file, when the location is unknown.
    pub file: Option<String>,
    /// The tool concerned.
    pub tool: Option<String>,
    /// The field concerned, as a dotted path inside the tool (or document).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Error {
    /// An error without position.
    pub fn new(message: impl Into<String>) -> Self {
        Error(Box::new(Details {
            location: None,
            file: None,
            tool: None,
            field: None,
            message: message.into(),
        }))
    }

    /// An error at a position.
    pub fn at(location: Location, message: impl Into<String>) -> Self {
        let mut e = Error::new(message);
        e.0.location = Some(location);
        e
    }

    /// An error about a whole file.
    pub fn in_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Error::new(message);
        e.0.file = Some(file.into());
        e
    }

    /// Attach the tool name.
    pub fn tool(mut self, tool: impl Into<String>) -> Self {
        self.0.tool = Some(tool.into());
        self
    }

    /// Attach the field path.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    /// Attach the tool and field named by `pointer`, a JSON pointer into a
    /// DADL document: `/backend/tools/get_vm/params/id/in` names tool
    /// `get_vm`, field `params.id.in`; `/backend/hints/get_vm/x` names tool
    /// `get_vm`, field `hints.x`; any other pointer is a field path
    /// (`backend.auth.type`). The root pointer names nothing.
    pub fn with_pointer(mut self, pointer: &str) -> Self {
        let tokens: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let field_tokens = match tokens.as_slice() {
            [b, t, name, rest @ ..] if b == "backend" && t == "tools" => {
                self = self.tool(name.clone());
                rest.to_vec()
            }
            [b, h, name, rest @ ..] if b == "backend" && h == "hints" => {
                self = self.tool(name.clone());
                let mut v = vec!["hints".to_owned()];
                v.extend(rest.iter().cloned());
                v
            }
            other => other.to_vec(),
        };
        if !field_tokens.is_empty() {
            self = self.field(field_tokens.join("."));
        }
        self
    }

    /// The details.
    pub fn details(&self) -> &Details {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        match (&d.location, &d.file) {
            (Some(l), _) => write!(f, "{l}: ")?,
            (None, Some(file)) => write!(f, "{file}: ")?,
            (None, None) => {}
        }
        if let Some(t) = &d.tool {
            write!(f, "tool `{t}`, ")?;
        }
        if let Some(field) = &d.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&d.message)
    }
}

impl std::error::Error for Error {}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_name_tool_and_field() {
        let e = Error::new("m").with_pointer("/backend/tools/get~1vm/params/id/in");
        assert_eq!(e.to_string(), "tool `get/vm`, field `params.id.in`: m");
        let e = Error::new("m").with_pointer("/backend/tools/get_vm");
        assert_eq!(e.to_string(), "tool `get_vm`, m");
        let e = Error::new("m").with_pointer("/backend/hints/get_vm/note");
        assert_eq!(e.to_string(), "tool `get_vm`, field `hints.note`: m");
        let e = Error::new("m").with_pointer("/backend/auth/type");
        assert_eq!(e.to_string(), "field `backend.auth.type`: m");
        assert_eq!(Error::new("m").with_pointer("").to_string(), "m");
    }
}
