//! Query parameters and collection rendering (hrefs, `fields`, `filter`,
//! `limit`, `ndjson`, `markdown`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::{XoError, XoResult, json_body};
use crate::matcher;

/// Decoded query string, keeping bare keys (`?sync` gives `("sync", "")`).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// Last value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a key.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean parameter: only `true` and `false` are accepted (422 otherwise).
    pub fn bool(&self, key: &str) -> XoResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(XoError::invalid_field(
                key,
                "invalid boolean value",
                Value::String(other.to_string()),
            )),
        }
    }

    /// A boolean parameter defaulting to false.
    pub fn flag(&self, key: &str) -> XoResult<bool> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    /// A number parameter (422 when not a number).
    pub fn number(&self, key: &str) -> XoResult<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(s) => match s.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Some(n)),
                _ => Err(XoError::invalid_field(
                    key,
                    "invalid float number",
                    Value::String(s.to_string()),
                )),
            },
        }
    }

    /// The query string re-encoded (for redirects).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// Which fields a collection request asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Fields {
    /// `fields=*`
    All,
    /// `fields=a,b`
    Some(Vec<String>),
}

/// The collection parameters of a request.
#[derive(Debug, Clone)]
pub struct ListParams {
    /// `fields`
    pub fields: Option<Fields>,
    /// `filter`
    pub filter: Option<matcher::Node>,
    /// `limit`
    pub limit: Option<usize>,
    /// `ndjson=true`
    pub ndjson: bool,
    /// `markdown=true`
    pub markdown: bool,
}

impl ListParams {
    /// Reads and validates the collection parameters.
    pub fn from_query(q: &Query) -> XoResult<Self> {
        let ndjson = q.flag("ndjson")?;
        let markdown = q.flag("markdown")?;
        if ndjson && markdown {
            return Err(XoError::invalid_parameters(
                "ndjson and markdown cannot be used together",
                json!({ "ndjson": true, "markdown": true }),
            ));
        }
        let fields = match q.get("fields") {
            None => None,
            Some("*") => Some(Fields::All),
            Some(s) => {
                let list: Vec<String> = s
                    .split(',')
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect();
                if list.is_empty() {
                    None
                } else {
                    Some(Fields::Some(list))
                }
            }
        };
        let filter = match q.get("filter") {
            None => None,
            Some(f) => Some(matcher::parse(f).map_err(|e| {
                XoError::with_data(
                    StatusCode::BAD_REQUEST,
                    format!("parse error: {} at position {}", e.message, e.position),
                    json!({ "stringToParse": f }),
                )
            })?),
        };
        let limit = match q.number("limit")? {
            None => None,
            Some(n) if n < 0.0 => {
                return Err(XoError::invalid_field(
                    "limit",
                    "limit must be positive",
                    json!(n),
                ));
            }
            Some(n) => Some(n.min(usize::MAX as f64) as usize),
        };
        Ok(ListParams {
            fields,
            filter,
            limit,
            ndjson,
            markdown,
        })
    }
}

/// Filters, limits and renders items given as `(href, object)`.
pub fn render(items: Vec<(String, Value)>, p: &ListParams) -> Response {
    let mut out: Vec<Value> = Vec::new();
    for (href, obj) in items {
        if let Some(limit) = p.limit {
            if out.len() >= limit {
                break;
            }
        }
        if let Some(f) = &p.filter {
            if !f.matches(&obj) {
                continue;
            }
        }
        out.push(project(&href, &obj, p.fields.as_ref()));
    }
    render_values(out, p)
}

/// Projects one object as the `fields` parameter asks.
pub fn project(href: &str, obj: &Value, fields: Option<&Fields>) -> Value {
    match fields {
        None => Value::String(href.to_string()),
        Some(Fields::All) => {
            let mut m = obj.as_object().cloned().unwrap_or_default();
            m.insert("href".into(), Value::String(href.to_string()));
            Value::Object(m)
        }
        Some(Fields::Some(list)) => {
            let mut m = Map::new();
            for f in list {
                if let Some(v) = obj.get(f) {
                    m.insert(f.clone(), v.clone());
                }
            }
            m.insert("href".into(), Value::String(href.to_string()));
            Value::Object(m)
        }
    }
}

/// Renders already-projected values as JSON, NDJSON or Markdown.
pub fn render_values(out: Vec<Value>, p: &ListParams) -> Response {
    if p.ndjson {
        let mut body = String::new();
        for v in &out {
            body.push_str(&json_body(v));
            body.push('\n');
        }
        return with_type(body, "application/x-ndjson");
    }
    if p.markdown {
        return with_type(
            markdown(&out, p.fields.as_ref()),
            "text/markdown; charset=utf-8",
        );
    }
    with_type(
        json_body(&Value::Array(out)),
        "application/json; charset=utf-8",
    )
}

fn with_type(body: String, ct: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

fn cell(v: Option<&Value>) -> String {
    let s = match v {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => json_body(other),
    };
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown table of the items, as XO renders one: a column per member
/// of the projected objects (in order of appearance, `href` left out), no
/// final newline, and `No results.` for an empty collection. Plain hrefs
/// (no `fields`) make one `href` column.
pub fn markdown(items: &[Value], _fields: Option<&Fields>) -> String {
    if items.is_empty() {
        return "No results.".to_string();
    }
    let mut columns: Vec<String> = Vec::new();
    for it in items {
        match it {
            Value::Object(m) => {
                for k in m.keys() {
                    if k != "href" && !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            _ => {
                if !columns.iter().any(|c| c == "href") {
                    columns.push("href".to_string());
                }
            }
        }
    }
    let mut lines = vec![
        format!("| {} |", columns.join(" | ")),
        format!(
            "| {} |",
            columns
                .iter()
                .map(|_| "---")
                .collect::<Vec<_>>()
                .join(" | ")
        ),
    ];
    for it in items {
        let row: Vec<String> = columns
            .iter()
            .map(|c| match it {
                Value::String(_) if c == "href" => cell(Some(it)),
                _ => cell(it.get(c)),
            })
            .collect();
        lines.push(format!("| {} |", row.join(" | ")));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_params() {
        let q = Query::parse(Some("sync&a=true&b=false&c=TRUE"));
        assert!(q.bool("sync").is_err());
        assert_eq!(q.bool("a").unwrap(), Some(true));
        assert_eq!(q.bool("b").unwrap(), Some(false));
        assert!(q.bool("c").is_err());
        assert_eq!(q.bool("d").unwrap(), None);
    }

    #[test]
    fn table() {
        let items = vec![json!({"name_label":"a|b","href":"/x"})];
        let t = markdown(&items, Some(&Fields::Some(vec!["name_label".into()])));
        assert_eq!(t, "| name_label |\n| --- |\n| a\\|b |");
        assert_eq!(markdown(&[], None), "No results.");
    }
}
