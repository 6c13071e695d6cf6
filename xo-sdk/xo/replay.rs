//! Decoding of recorded answers, for conformance tests over a corpus of
//! exchanges with a real XO (`conformance/real/`): not API for users.
//!
//! The generator lists, for every operation, the check that decodes an
//! answer into that operation's typed result exactly as its `send()` (or
//! `select`/`stream`/`markdown`/`run_sync`) does: the generated `ANSWERS`
//! table. A test replays each recorded answer over HTTP, gets the SDK's
//! `RawResponse` for it, and runs the operation's check.

use serde::de::DeserializeOwned;

use crate::runtime::{
    Body, Client, Href, Id, OperationSpec, RawResponse, Request, RequestBodyKind, percent_decode,
};
use crate::xo::{Action, Collection, Task, TaskOutput};
use crate::{Error, Result};

/// Decode `answer` (to the request whose query string was `query`) into an
/// operation's typed result; on success, what it decoded into.
pub type Check = fn(&Client, &RawResponse, &str) -> Result<&'static str>;

/// A collection: references by default, objects with `fields`, one object
/// per line with `ndjson`, a text table with `markdown`.
pub fn collection<C: Collection>(
    _: &Client,
    answer: &RawResponse,
    query: &str,
) -> Result<&'static str> {
    let has = |key: &str| {
        query.split('&').any(|kv| {
            kv == key
                || kv
                    .split_once('=')
                    .is_some_and(|(k, v)| k == key && v != "false")
        })
    };
    if has("markdown") {
        text(answer)?;
        return Ok("Markdown table");
    }
    if has("ndjson") {
        // A watch (`watch=true`, the task list) sends `["update"|"remove",
        // object]` lines; otherwise each line is an object.
        let watch = has("watch");
        for line in answer.body.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let decoded = if watch {
                serde_json::from_slice::<(WatchKind, C::Item)>(line).map(drop)
            } else {
                serde_json::from_slice::<C::Item>(line).map(drop)
            };
            decoded.map_err(|e| Error::Decode {
                site: answer.site().clone(),
                reason: crate::runtime::wire::bound(format!("NDJSON line: {e}")),
                excerpt: String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned(),
            })?;
        }
        return Ok(if watch {
            "watch changes"
        } else {
            "objects, one per line"
        });
    }
    if has("fields") {
        answer.json::<Vec<C::Item>>()?;
        Ok("objects")
    } else {
        answer.json::<Vec<Href<C::Id>>>()?;
        Ok("references")
    }
}

/// The kind of change on a watch line.
#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum WatchKind {
    Update,
    Remove,
}

/// An action: a task (202) or, run with `sync`, its typed output.
pub fn action<A: Action>(client: &Client, answer: &RawResponse, _: &str) -> Result<&'static str> {
    if answer.status == 202 {
        Task::from_accepted(client.clone(), answer)?;
        Ok("task")
    } else {
        A::Output::from_sync_response(answer)?;
        Ok("sync output")
    }
}

/// A create: the new object's id.
pub fn created<I: Id>(_: &Client, answer: &RawResponse, _: &str) -> Result<&'static str> {
    answer.created::<I>()?;
    Ok("new id")
}

/// An operation that answers nothing to read.
pub fn empty(_: &Client, _: &RawResponse, _: &str) -> Result<&'static str> {
    Ok("nothing")
}

/// A JSON answer of a declared type (or untyped JSON).
pub fn json<T: DeserializeOwned>(
    _: &Client,
    answer: &RawResponse,
    _: &str,
) -> Result<&'static str> {
    answer.json::<T>()?;
    Ok("typed JSON")
}

/// A binary or streamed answer: bytes, whatever they are.
pub fn bytes(_: &Client, _: &RawResponse, _: &str) -> Result<&'static str> {
    Ok("bytes")
}

fn text(answer: &RawResponse) -> Result<()> {
    std::str::from_utf8(&answer.body).map_err(|e| Error::Decode {
        site: answer.site().clone(),
        reason: format!("text answer: {e}"),
        excerpt: String::new(),
    })?;
    Ok(())
}

/// A request for `spec` with the path parameters read from a recorded
/// path (`/rest/v0/vms/<id>.xva` for `/vms/{uuid}.{format}`); `None` when
/// the path does not fit the template.
pub fn request(client: &Client, spec: &'static OperationSpec, path: &str) -> Option<Request> {
    let template: Vec<&'static str> = spec.path.split('/').filter(|s| !s.is_empty()).collect();
    let recorded: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let tail = recorded.get(recorded.len().checked_sub(template.len())?..)?;
    let mut request = client.request(spec);
    for (t, r) in template.iter().zip(tail) {
        for (name, value) in match_segment(t, r)? {
            request.path_param(name, &percent_decode(value)?);
        }
    }
    if matches!(spec.request_body, RequestBodyKind::Raw { .. }) {
        // An upload: an empty body (the answer is what is checked).
        request.raw_body(Body::from(Vec::new()));
    }
    Some(request)
}

/// Match one path segment against its template (`{a}`, `{a}.{b}`,
/// `{a}.xva`, `actions`): the placeholder values.
fn match_segment<'r>(
    template: &'static str,
    recorded: &'r str,
) -> Option<Vec<(&'static str, &'r str)>> {
    let mut values = Vec::new();
    let (mut t, mut r) = (template, recorded);
    while !t.is_empty() {
        if let Some(rest) = t.strip_prefix('{') {
            let close = rest.find('}')?;
            let name = &rest[..close];
            t = &rest[close + 1..];
            // The value runs to the next literal (the last occurrence, since
            // ids have no dots and formats come last), or to the end.
            let literal_end = t.find('{').unwrap_or(t.len());
            let literal = &t[..literal_end];
            let end = if literal.is_empty() {
                r.len()
            } else {
                r.rfind(literal)?
            };
            values.push((name, &r[..end]));
            r = &r[end..];
        } else {
            let literal_end = t.find('{').unwrap_or(t.len());
            let literal = &t[..literal_end];
            r = r.strip_prefix(literal)?;
            t = &t[literal_end..];
        }
    }
    r.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::match_segment;

    #[test]
    fn segments() {
        assert_eq!(match_segment("{id}", "abc"), Some(vec![("id", "abc")]));
        assert_eq!(
            match_segment("{uuid}.{format}", "a-b.xva"),
            Some(vec![("uuid", "a-b"), ("format", "xva")])
        );
        assert_eq!(match_segment("{id}.xva", "x.xva"), Some(vec![("id", "x")]));
        assert_eq!(match_segment("actions", "actions"), Some(vec![]));
        assert_eq!(match_segment("actions", "other"), None);
        assert_eq!(match_segment("{id}.xva", "x.ova"), None);
    }
}
