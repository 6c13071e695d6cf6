//! Form bodies: `application/x-www-form-urlencoded` and
//! `multipart/form-data` (RFC 7578), built from the `in: body` params of a
//! DADL tool whose `content_type` is one of them.
//!
//! # Values
//!
//! A param's value becomes text fields the same way in both encodings:
//! a string as is, a number or boolean as JSON writes it (`3`, `2.5`,
//! `true`), `null` not at all; an array repeats its key once per item
//! (`tags=a&tags=b`, as HTML forms send a multiple select); an object
//! gives one field per member, named with brackets (`address[city]=Paris`,
//! `address[geo][lat]=1`), the convention of form APIs that take nested
//! data. An array inside an object repeats its bracketed key.
//!
//! # Multipart
//!
//! A `file_url` param of a multipart tool is a [`FilePart`]: a [`Body`]
//! with a file name and a content type. Its bytes are streamed as the
//! connection takes them, never held whole: memory stays flat whatever
//! the file's size. When every file part has a known length the request
//! goes out with a `Content-Length` (computed, not buffered); a part of
//! unknown length needs [`Body::allow_chunked`]. The boundary is 128
//! random bits, drawn again if it occurs in a text part, a name or a file
//! name (file contents are not scanned: they are streamed, and a random
//! 32-hex-digit string occurs in them with negligible probability).

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt, stream};

use super::body::{Body, Content};
use super::retry;
use super::transfer::{BoxError, ChunkStream, Progress};

/// A file part of a `multipart/form-data` body: its content, file name and
/// content type.
///
/// The content is streamed as the connection takes it, whatever the
/// [`Body`] holds; a request with a file part is therefore sent once,
/// never retried or redirected (as a streamed [`Body`]). The body's
/// [`on_progress`](Body::on_progress) reports this part's bytes.
///
/// ```no_run
/// # async fn demo() -> xo_sdk::Result<()> {
/// use xo_sdk::runtime::{Body, FilePart};
/// // File name `report.pdf`, from the path; content type given.
/// let part = FilePart::new(Body::from_file("out/report.pdf").await?).content_type("application/pdf");
/// // In memory, named explicitly.
/// let small = FilePart::new(b"a,b\n1,2\n".to_vec()).file_name("table.csv").content_type("text/csv");
/// # let _ = (part, small);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FilePart {
    body: Body,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl FilePart {
    /// A part with `body` as its content. Its file name is the one of
    /// [`Body::from_file`]'s path, else the param's name; its content type
    /// `application/octet-stream` unless set.
    pub fn new(body: impl Into<Body>) -> FilePart {
        FilePart {
            body: body.into(),
            file_name: None,
            content_type: None,
        }
    }

    /// Set the file name sent with the part (`filename="…"`).
    pub fn file_name(mut self, name: impl Into<String>) -> FilePart {
        self.file_name = Some(name.into());
        self
    }

    /// Set the part's `Content-Type`.
    pub fn content_type(mut self, content_type: impl Into<String>) -> FilePart {
        self.content_type = Some(content_type.into());
        self
    }
}

impl From<Body> for FilePart {
    fn from(body: Body) -> FilePart {
        FilePart::new(body)
    }
}

/// One field of a form body, in the order the params were set.
#[derive(Debug)]
pub(crate) enum Field {
    /// A text field (a part without a file name, in multipart).
    Text(String, String),
    /// A file part.
    File(String, FilePart),
}

impl Field {
    /// The field's name (for `Debug` output, which shows no values).
    pub(crate) fn name(&self) -> &str {
        match self {
            Field::Text(n, _) | Field::File(n, _) => n,
        }
    }
}

/// The text fields of one param's value (see the module docs), appended to
/// `out` under `name`.
pub(crate) fn flatten(name: &str, value: &serde_json::Value, out: &mut Vec<Field>) {
    use serde_json::Value;
    match value {
        Value::Null => {}
        Value::String(s) => out.push(Field::Text(name.to_owned(), s.clone())),
        Value::Bool(_) | Value::Number(_) => {
            out.push(Field::Text(name.to_owned(), value.to_string()))
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    // An array of arrays has no form convention: each inner
                    // array goes as its JSON text.
                    Value::Array(_) => out.push(Field::Text(name.to_owned(), item.to_string())),
                    _ => flatten(name, item, out),
                }
            }
        }
        Value::Object(members) => {
            for (k, v) in members {
                flatten(&format!("{name}[{k}]"), v, out);
            }
        }
    }
}

/// `application/x-www-form-urlencoded` text of the text fields (the
/// WHATWG serializer: letters, digits and `*-._` as they are, space as
/// `+`, every other byte of the UTF-8 as `%XX`).
pub(crate) fn urlencoded(fields: &[Field]) -> String {
    let mut out = String::new();
    for f in fields {
        if let Field::Text(name, value) = f {
            if !out.is_empty() {
                out.push('&');
            }
            encode_form_component(name, &mut out);
            out.push('=');
            encode_form_component(value, &mut out);
        }
    }
    out
}

fn encode_form_component(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// A name or file name inside a quoted `Content-Disposition` parameter:
/// `"`, CR and LF percent-encoded, as browsers send them (RFC 7578 §4.2,
/// HTML's multipart serializer); other UTF-8 as it is.
fn quoted(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A fresh boundary: 32 random hex digits behind a fixed prefix.
fn new_boundary() -> String {
    format!("xo-sdk-{}", retry::new_idempotency_key().replace('-', ""))
}

/// A `multipart/form-data` body of `fields`, with its content type, or why
/// it cannot be sent. Text is copied into the body; file parts are
/// streamed.
pub(crate) fn multipart(fields: Vec<Field>) -> Result<(Body, String), String> {
    let mut boundary = new_boundary();
    // Names, file names and text values are known now: a boundary found in
    // one of them is drawn again (with 128 random bits, in practice never).
    while fields.iter().any(|f| match f {
        Field::Text(n, v) => n.contains(&boundary) || v.contains(&boundary),
        Field::File(n, p) => {
            n.contains(&boundary)
                || p.file_name
                    .as_deref()
                    .is_some_and(|f| f.contains(&boundary))
                || p.content_type
                    .as_deref()
                    .is_some_and(|c| c.contains(&boundary))
        }
    }) {
        boundary = new_boundary();
    }
    let mut segments: Vec<Segment> = Vec::new();
    let mut length = Some(0u64);
    let mut text = BytesMut::new();
    for field in fields {
        text.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match field {
            Field::Text(name, value) => {
                text.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                        quoted(&name)
                    )
                    .as_bytes(),
                );
                text.extend_from_slice(value.as_bytes());
            }
            Field::File(name, part) => {
                let content_type = part
                    .content_type
                    .as_deref()
                    .unwrap_or("application/octet-stream");
                if content_type.contains(['\r', '\n']) {
                    return Err(format!(
                        "the content type of file part `{name}` has a line break"
                    ));
                }
                let file_name = part
                    .file_name
                    .clone()
                    .or_else(|| part.body.file_name().map(str::to_owned))
                    .unwrap_or_else(|| name.clone());
                text.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n",
                        quoted(&name),
                        quoted(&file_name)
                    )
                    .as_bytes(),
                );
                if let Some(problem) = part.body.length_problem() {
                    return Err(format!("file part `{name}`: {problem}"));
                }
                let part_length = part.body.length();
                length = length.zip(part_length).map(|(a, b)| a + b);
                segments.push(Segment::Bytes(text.split().freeze()));
                segments.push(Segment::File(part.body));
            }
        }
        text.extend_from_slice(b"\r\n");
    }
    text.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    segments.push(Segment::Bytes(text.freeze()));
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let text_length: u64 = segments
        .iter()
        .map(|s| match s {
            Segment::Bytes(b) => b.len() as u64,
            Segment::File(_) => 0,
        })
        .sum();
    let length = length.map(|files| files + text_length);
    if let [Segment::Bytes(b)] = segments.as_slice() {
        // Text only: an in-memory body, which a retry can send again.
        return Ok((Body::from(b.clone()), content_type));
    }
    let chunks: ChunkStream = Box::pin(stream::iter(segments).flat_map(Segment::into_chunks));
    Ok((Body::from_stream(chunks, length), content_type))
}

/// A piece of a multipart body: text, or the content of a file part.
enum Segment {
    Bytes(Bytes),
    File(Body),
}

impl Segment {
    fn into_chunks(self) -> ChunkStream {
        match self {
            Segment::Bytes(b) => Box::pin(stream::once(async move { Ok::<_, BoxError>(b) })),
            Segment::File(body) => {
                let (content, length, progress) = body.into_content();
                let chunks: ChunkStream = match content {
                    Content::Bytes(b) => {
                        Box::pin(stream::once(async move { Ok::<_, BoxError>(b) }))
                    }
                    Content::Stream(s) => s,
                };
                let Some(progress) = progress else {
                    return chunks;
                };
                // The part's own progress: its bytes against its length.
                let mut sent = 0u64;
                Box::pin(chunks.inspect_ok(move |chunk| {
                    sent += chunk.len() as u64;
                    if let Ok(mut f) = progress.lock() {
                        f(Progress {
                            bytes: sent,
                            total: length,
                        });
                    }
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(fields: &[Field]) -> Vec<(&str, &str)> {
        fields
            .iter()
            .filter_map(|f| match f {
                Field::Text(n, v) => Some((n.as_str(), v.as_str())),
                Field::File(..) => None,
            })
            .collect()
    }

    #[test]
    fn values_flatten_to_fields() {
        let mut out = Vec::new();
        flatten(
            "tags",
            &serde_json::json!(["a", 1, true, null, [2, 3]]),
            &mut out,
        );
        flatten(
            "addr",
            &serde_json::json!({"city": "Paris", "geo": {"lat": 1.5}, "l": ["x", "y"]}),
            &mut out,
        );
        flatten("none", &serde_json::Value::Null, &mut out);
        assert_eq!(
            texts(&out),
            [
                ("tags", "a"),
                ("tags", "1"),
                ("tags", "true"),
                ("tags", "[2,3]"),
                ("addr[city]", "Paris"),
                ("addr[geo][lat]", "1.5"),
                ("addr[l]", "x"),
                ("addr[l]", "y"),
            ]
        );
    }

    #[test]
    fn urlencoding_follows_the_form_serializer() {
        let fields = vec![
            Field::Text("a b".into(), "x&y=z+1%/é*-._~".into()),
            Field::Text("n".into(), String::new()),
        ];
        assert_eq!(
            urlencoded(&fields),
            "a+b=x%26y%3Dz%2B1%25%2F%C3%A9*-._%7E&n="
        );
    }

    #[test]
    fn quoting_of_names() {
        assert_eq!(quoted("a\"b\r\nc é"), "a%22b%0D%0Ac é");
    }
}
