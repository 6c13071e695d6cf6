//! Rustdoc text for generated items, built from the DADL description,
//! hints, access level, method and path.
//!
//! DADL text is prose for LLMs, not Markdown for rustdoc: it is escaped so
//! that `[x]`, `<uuid>`, indented lines and bare URLs cannot become broken
//! links, HTML tags, doctests or lint failures.

use crate::ir::{Access, Location, Operation, Param, ParamType, RequestBody, Response};

/// Escape DADL prose for rustdoc Markdown.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.trim();
        // Balanced backticks are code spans: kept verbatim (rustdoc shows
        // them as code); the prose between them is escaped.
        let spans: Vec<&str> = line.split('`').collect();
        let balanced = spans.len() % 2 == 1 && spans.len() > 1 && !line.contains("```");
        let mut l = String::with_capacity(line.len() + 8);
        for (k, part) in spans.iter().enumerate() {
            if balanced && k % 2 == 1 {
                l.push('`');
                l.push_str(part);
                l.push('`');
            } else if balanced {
                l.push_str(&escape_prose(part));
            } else {
                if k > 0 {
                    l.push_str("\\`");
                }
                l.push_str(&escape_prose(part));
            }
        }
        if l.starts_with('#') || l.starts_with('>') || l.starts_with("```") || l.starts_with('=') {
            l.insert(0, '\\');
        }
        out.push_str(&l);
    }
    out
}

fn escape_prose(text: &str) -> String {
    text.split(' ')
        .map(escape_word)
        .collect::<Vec<_>>()
        .join(" ")
}

fn escape_word(word: &str) -> String {
    // Bare URLs become autolinks (rustdoc's `bare_urls` lint).
    if let Some(start) = word.find("http://").or_else(|| word.find("https://")) {
        let (pre, rest) = word.split_at(start);
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ',' | '"' | '\'' | '<' | '>'))
            .unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(['.', ';', ':']);
        let post = &rest[url.len()..];
        return format!("{}<{}>{}", escape_plain(pre), url, escape_plain(post));
    }
    escape_plain(word)
}

fn escape_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '[' | ']' | '*' | '_' | '\\' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// A Markdown code span of `s` (no escaping inside: rustdoc shows code
/// spans verbatim).
pub fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// "Key words" of a hint key: `maintenance_mode` → `Maintenance mode`.
fn hint_label(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn access_line(op: &Operation) -> Option<String> {
    match op.access.as_ref()? {
        Access::Dangerous => Some(
            "**⚠ DANGEROUS:** this operation is destructive or irreversible (DADL access `dangerous`)."
                .into(),
        ),
        Access::Admin => Some("**Admin:** needs privileged credentials (DADL access `admin`).".into()),
        Access::Read => Some("Access: `read` (no side effects).".into()),
        Access::Write => Some("Access: `write` (creates or changes state).".into()),
        Access::Other(other) => Some(format!("Access: {}.", code(other))),
    }
}

/// First sentence-ish summary of a description, for the service method.
fn summary(desc: &str) -> String {
    let first = desc.lines().next().unwrap_or("").trim();
    let cut = first
        .char_indices()
        .find(|(i, c)| *c == '.' && first[i + 1..].starts_with(' '))
        .map_or(first.len(), |(i, _)| i + 1);
    escape(&first[..cut])
}

/// Docs of the service method that creates the builder.
pub fn service_method(op: &Operation) -> String {
    let mut s = summary(&op.description);
    if let Some(a) = access_line(op).filter(|_| matches!(op.access, Some(Access::Dangerous))) {
        s.push_str("\n\n");
        s.push_str(&a);
    }
    s.push_str(&format!(
        "\n\n`{} {}` (DADL tool `{}`). Required parameters are the arguments; optional ones are setters on [`{}`], which is sent with `.send().await`.",
        op.http_method,
        op.path,
        op.tool,
        op.type_name
    ));
    if has_raw_body(op) {
        s.push_str("\n\n`body` is the raw request body, streamed as given (see [`Body`](::xo_sdk::runtime::Body)).");
    }
    s.push_str("\n\n");
    s.push_str(&answer(op));
    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    if !required.is_empty() {
        s.push_str("\n\n# Arguments\n");
        for p in required {
            s.push_str(&format!(
                "\n- `{}`: {}",
                p.rust_name,
                param_text(p, &op.request_body)
            ));
        }
    }
    s
}

fn has_raw_body(op: &Operation) -> bool {
    matches!(op.request_body, RequestBody::Raw { .. })
}

fn location_text(p: &Param, body: &RequestBody) -> String {
    let where_ = match (p.location, body) {
        (Location::Path, _) => "path segment",
        (Location::Query, _) => "query parameter",
        (Location::Header, _) => "header",
        (Location::Body, RequestBody::Form) => "form field",
        (Location::Body, RequestBody::Multipart) if is_file_part(p, body) => "multipart file part",
        (Location::Body, RequestBody::Multipart) => "multipart text part",
        (Location::Body, RequestBody::Text { .. }) => "the whole request body, as text, for",
        (Location::Body, _) => "JSON body field",
    };
    format!("{where_} {}", code(&p.name))
}

/// Whether `p` is a file part of a multipart body (a `file_url` body
/// param): its value is a `FilePart`, not a URL.
pub fn is_file_part(p: &Param, body: &RequestBody) -> bool {
    *body == RequestBody::Multipart && p.location == Location::Body && p.ty == ParamType::FileUrl
}

fn type_text(p: &Param, body: &RequestBody) -> &'static str {
    if is_file_part(p, body) {
        return "file";
    }
    match p.ty {
        ParamType::String => "string",
        ParamType::FileUrl => "URL string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
        ParamType::Array => "array",
        ParamType::Object => "JSON object",
    }
}

fn param_text(p: &Param, body: &RequestBody) -> String {
    let mut s = match &p.description {
        Some(d) if !d.trim().is_empty() => escape(d).replace('\n', " "),
        _ => format!("The {} {}.", code(&p.name), type_text(p, body)),
    };
    s.push_str(&format!(" (Sent as {}.)", location_text(p, body)));
    if let Some(d) = &p.default {
        s.push_str(&format!(
            " Server default: `{}`.",
            d.to_string().replace('`', "'")
        ));
    }
    s
}

/// A type expression as rustdoc text with links into `types`.
pub fn type_link(ty: &crate::ir::types::TypeRef) -> String {
    use crate::ir::types::TypeRef;
    match ty {
        TypeRef::String => "`String`".into(),
        TypeRef::Integer => "`i64`".into(),
        TypeRef::Number => "`f64`".into(),
        TypeRef::Boolean => "`bool`".into(),
        TypeRef::Value => "untyped JSON".into(),
        TypeRef::Array(t) => format!("a list of {}", type_link(t)),
        TypeRef::Map(t) => format!("a map of {}", type_link(t)),
        TypeRef::Optional(t) => format!("{} or `null`", type_link(t)),
        TypeRef::Named(n) => format!("[`{n}`](crate::types::{n})"),
        TypeRef::Href(n) => format!("a reference to a [`{n}`](crate::types::{n})"),
    }
}

/// What `.send().await` gives, in one sentence.
pub fn answer(op: &Operation) -> String {
    use crate::ir::{Kind, Response};
    match &op.kind {
        Kind::Collection { id, markdown, .. } => format!(
            "**Answers** one reference per object ({} each); `.select(…)` or `.all_fields()` ask for the objects, `.stream()` then decodes them one at a time{}.",
            type_link(&crate::ir::types::TypeRef::Href(match id {
                crate::ir::types::TypeRef::Named(n) => n.clone(),
                _ => "String".into(),
            })),
            if *markdown { ", `.markdown()` answers XO's Markdown table" } else { "" }
        ),
        Kind::Action { output } => format!(
            "**Answers** a task handle ([`Task`](::xo_sdk::xo::Task)); its `.result().await` is {} when the task succeeds. `.run_sync()` runs the action with `sync=true` and answers the same value.",
            output.as_ref().map_or("`()`".to_owned(), type_link)
        ),
        Kind::Create { id } => format!("**Answers** the new object's id, {}.", type_link(id)),
        Kind::Empty => "**Answers** `()`: the server sends nothing to read.".into(),
        Kind::Plain => match (&op.response, &op.result) {
            (Response::Json, Some(r)) => format!("**Answers** {}.", type_link(r)),
            (Response::Json, None) => "**Answers** untyped JSON (`Value`): the API description declares no type for it.".into(),
            _ => "**Answers** the response body as a [`ByteStream`](::xo_sdk::runtime::ByteStream), nothing buffered.".into(),
        },
    }
}

/// Docs of a generated data type.
pub fn type_doc(doc: Option<&str>, source: &str) -> String {
    let mut s = match doc {
        Some(d) if !d.trim().is_empty() => escape(d),
        _ => format!("The {} type.", code(source)),
    };
    s.push_str(&format!(
        "\n\nDeclared in the API description as {}.",
        code(source)
    ));
    s
}

/// Docs of a generated struct field.
pub fn field_doc(doc: Option<&str>, wire: &str) -> String {
    match doc {
        Some(d) if !d.trim().is_empty() => {
            format!("{} (JSON {}.)", escape(d).replace('\n', " "), code(wire))
        }
        _ => format!("JSON field {}.", code(wire)),
    }
}

/// Docs of an optional-parameter setter.
pub fn setter(p: &Param, body: &RequestBody) -> String {
    format!(
        "Set the optional {} {}.\n\n{}",
        type_text(p, body),
        code(&p.name),
        param_text(p, body)
    )
}

/// The `note` of `#[deprecated]`.
pub fn deprecation_note(reason: &str, replaced_by: Option<&str>) -> String {
    let mut s = if reason.is_empty() {
        "deprecated by the API".to_owned()
    } else {
        reason.to_owned()
    };
    if let Some(r) = replaced_by {
        s.push_str(&format!("; use the tool `{r}` instead"));
    }
    s
}

/// Docs of the request builder: the whole DADL description and hints.
pub fn builder(op: &Operation) -> String {
    let mut s = format!(
        "Request builder for `{}`: {}",
        op.tool,
        escape(&op.description)
    );
    if let Some(a) = access_line(op) {
        s.push_str("\n\n");
        s.push_str(&a);
    }
    if let Some(reason) = &op.deprecated {
        s.push_str("\n\n**Deprecated:** ");
        s.push_str(&escape(&deprecation_note(
            reason,
            op.replaced_by.as_deref(),
        )));
    }
    s.push_str(&format!("\n\n- Request: `{} {}`", op.http_method, op.path));
    match &op.request_body {
        RequestBody::None => {}
        RequestBody::Json => s.push_str(" with a JSON body of the fields that were set"),
        RequestBody::Raw { content_type } => {
            s.push_str(&format!(" with a raw `{content_type}` body"))
        }
        RequestBody::Form => s.push_str(
            " with an `application/x-www-form-urlencoded` body of the fields that were set",
        ),
        RequestBody::Multipart => s.push_str(
            " with a `multipart/form-data` body of the parts that were set (file parts streamed)",
        ),
        RequestBody::Text {
            content_type,
            param,
        } => s.push_str(&format!(
            " with a `{content_type}` body: the text of {}",
            code(param)
        )),
    }
    s.push_str(match &op.response {
        Response::Json => "\n- Response: JSON",
        Response::Binary { .. } => "\n- Response: binary, streamed as a `ByteStream`",
        Response::Streaming => "\n- Response: a long-lived stream, as a `ByteStream`",
    });
    s.push_str("\n\n");
    s.push_str(&answer(op));
    if !op.depends_on.is_empty() {
        s.push_str(&format!(
            "\n- Call first: {}",
            op.depends_on
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !op.hints.is_empty() {
        s.push_str("\n\n# Hints\n");
        for (k, v) in &op.hints {
            s.push_str(&format!(
                "\n- **{}:** {}",
                escape_plain(&hint_label(k)),
                escape(v).replace('\n', " ")
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown_hazards() {
        assert_eq!(
            escape("no such VM <id> [x]"),
            "no such VM &lt;id&gt; \\[x\\]"
        );
        assert_eq!(
            escape("see https://docs.x.com/a."),
            "see <https://docs.x.com/a>."
        );
        assert_eq!(escape("    indented code"), "indented code");
        assert_eq!(escape("# not a heading"), "\\# not a heading");
        assert_eq!(escape("use `a_b` [x]"), "use `a_b` \\[x\\]");
        assert_eq!(escape("odd ` tick_x"), "odd \\` tick\\_x");
    }
}
