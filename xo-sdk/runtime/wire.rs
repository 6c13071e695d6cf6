//! Wire encoding: path segments, query strings, JSONPath look-ups.

use std::fmt::Write;

/// [`render_scalar`] taking the value by ownership, so that a string is
/// moved rather than copied (the common case: ids and names).
pub fn into_scalar(v: serde_json::Value) -> Result<String, String> {
    match v {
        serde_json::Value::String(s) => Ok(s),
        other => render_scalar(&other),
    }
}

/// Render a JSON value as the text of a path segment, query value or header.
///
/// Booleans are exactly `true`/`false`, arrays are comma-joined (XO's
/// `fields=a,b` form), objects are sent as compact JSON.
pub fn render_scalar(v: &serde_json::Value) -> Result<String, String> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => return Err("null is not a valid value here".into()),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&render_scalar(item)?);
            }
            out
        }
        Value::Object(_) => v.to_string(),
    })
}

/// Percent-encode `value` as exactly one path segment: everything but
/// `A-Z a-z 0-9 - _ ~` is escaped, including `.` so that `.` and `..` can
/// never be normalised away, and `/`, `?`, `#`, `%`, CR and LF.
pub fn encode_segment(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Whether an encoded path segment is one that URL parsers resolve away:
/// `.` or `..`, in any mix of literal and percent-encoded dots (WHATWG URL
/// treats `%2e` like `.`).
pub fn is_dot_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase();
    matches!(s.as_str(), "." | "%2e" | ".." | ".%2e" | "%2e." | "%2e%2e")
}

/// Percent-encode a query component (`application/x-www-form-urlencoded`
/// without `+` for spaces, which some servers do not decode).
fn encode_query_component(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~' | b'.' | b',' | b'*') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Build a query string from name/value pairs.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        append_query_pair(&mut out, k, v);
    }
    out
}

/// Append `name=value` to a query string under construction, with a `&`
/// separator when it is not empty.
pub fn append_query_pair(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() && !out.ends_with('?') {
        out.push('&');
    }
    encode_query_component(name, out);
    out.push('=');
    encode_query_component(value, out);
}

/// Expand a `{name}` path template. Returns the name of a placeholder that
/// has no value.
pub fn expand_path(template: &str, params: &[(&str, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    expand_path_into(template, params, &mut out)?;
    Ok(out)
}

/// [`expand_path`], appending to `out` (the request URL is built in one
/// buffer, then parsed once).
pub fn expand_path_into(
    template: &str,
    params: &[(&str, String)],
    out: &mut String,
) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| after.to_owned())?;
        let name = &after[..close];
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| name.to_owned())?;
        encode_segment(&value.1, out);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// Evaluate the RFC 9535 subset DADL allows (`$`, `.name`, `['name']`,
/// `[index]` with negative indexes). The wildcard yields its first match.
pub fn json_path<'a>(root: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut cur = root;
    let mut rest = path.strip_prefix('$')?;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            cur = if name == "*" {
                first_child(cur)?
            } else {
                cur.get(name)?
            };
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let sel = r[..end].trim();
            cur = if sel == "*" {
                first_child(cur)?
            } else if let Some(name) = sel
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| sel.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            {
                cur.get(name)?
            } else {
                let idx: i64 = sel.parse().ok()?;
                let arr = cur.as_array()?;
                let i = if idx < 0 { arr.len() as i64 + idx } else { idx };
                arr.get(usize::try_from(i).ok()?)?
            };
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur)
}

fn first_child(v: &serde_json::Value) -> Option<&serde_json::Value> {
    match v {
        serde_json::Value::Array(a) => a.first(),
        serde_json::Value::Object(o) => o.values().next(),
        _ => None,
    }
}

/// Longest text an error carries from an answer (a decoder's reason, a
/// server's message): 1 KiB, then `…`. serde_json quotes the offending
/// value in its messages (`invalid type: string "…"`), and a hostile or
/// broken server can make that value gigabytes long.
pub const MAX_ERROR_TEXT: usize = 1024;

/// `text` cut to at most [`MAX_ERROR_TEXT`] bytes (on a character
/// boundary), with `…` when something was cut.
pub fn bounded_text(text: &str) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 3);
    out.push_str(&text[..end]);
    out.push('…');
    out
}

/// [`bounded_text`] of an owned string, without a copy when it is short.
pub(crate) fn bound(text: String) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        text
    } else {
        bounded_text(&text)
    }
}

/// The first bytes of a body as lossy UTF-8, for error messages (at most
/// 512 bytes of the body, then `…`).
pub fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 512;
    let cut = &bytes[..bytes.len().min(MAX)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > MAX {
        s.push('…');
    }
    s
}

/// The last path segment of a URL or path, percent-decoded.
pub(crate) fn last_segment(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next().unwrap_or_default();
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    if segment.is_empty() {
        return None;
    }
    percent_decode(segment)
}

/// Percent-decode `s`; `None` on a bad escape or invalid UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn segments_cannot_escape() {
        let mut s = String::new();
        encode_segment("../a/b?c#d%e\r\n f", &mut s);
        assert_eq!(s, "%2E%2E%2Fa%2Fb%3Fc%23d%25e%0D%0A%20f");
    }

    #[test]
    fn url_parsers_resolve_encoded_dot_segments() {
        // Why `.`/`..` path values are refused rather than encoded: the
        // `url` crate (WHATWG) treats `%2E%2E` exactly like `..`.
        let u = reqwest::Url::parse("http://h/rest/v0/vms/%2E%2E/x").unwrap();
        assert_eq!(u.path(), "/rest/v0/x");
        let u = reqwest::Url::parse("http://h/rest/v0/vms/%2e").unwrap();
        assert_eq!(u.path(), "/rest/v0/vms/");
        for seg in [".", "..", "%2E", "%2e%2E", ".%2e", "%2E."] {
            assert!(is_dot_segment(seg), "{seg}");
        }
        for seg in ["...", "%2E%2E%2E", "a.", "%252E"] {
            assert!(!is_dot_segment(seg), "{seg}");
        }
    }

    #[test]
    fn json_paths() {
        let v = json!({"error": "no such VM", "data": {"id": "x"}, "a": [1, 2, 3]});
        assert_eq!(json_path(&v, "$.error"), Some(&json!("no such VM")));
        assert_eq!(json_path(&v, "$.data.id"), Some(&json!("x")));
        assert_eq!(json_path(&v, "$['data']['id']"), Some(&json!("x")));
        assert_eq!(json_path(&v, "$.a[-1]"), Some(&json!(3)));
        assert_eq!(json_path(&v, "$.missing"), None);
        assert_eq!(json_path(&v, "$"), Some(&v));
    }

    #[test]
    fn error_text_is_bounded_on_a_char_boundary() {
        assert_eq!(bounded_text("short"), "short");
        let long = "é".repeat(MAX_ERROR_TEXT);
        let cut = bounded_text(&long);
        assert!(
            cut.len() <= MAX_ERROR_TEXT + '…'.len_utf8(),
            "{}",
            cut.len()
        );
        assert!(cut.ends_with('…'));
        assert_eq!(bound("x".repeat(5000)).chars().count(), MAX_ERROR_TEXT + 1);
        assert!(excerpt(&[b'a'; 4096]).len() <= 512 + 3);
    }

    #[test]
    fn path_expansion() {
        let p = expand_path(
            "/vms/{id}.{format}",
            &[("id", "a/b".into()), ("format", "xva".into())],
        );
        assert_eq!(p.unwrap(), "/vms/a%2Fb.xva");
        assert_eq!(expand_path("/x/{id}", &[]), Err("id".into()));
    }
}
