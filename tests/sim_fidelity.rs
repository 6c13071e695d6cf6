//! Sim fidelity: replays the requests of `conformance/real/corpus.jsonl`
//! (recorded from a real xo-server started empty) against an empty xo-sim
//! ([`xo_sim::SimBuilder::empty`]), in order, and compares the answers.
//!
//! Per exchange it compares the status, whether a `Location` header came,
//! and the shape of the body: for JSON,
//! object keys and value kinds (string, number, bool, null, array, object)
//! recursively, values never (so ids and timestamps do not matter); an
//! array's element shapes are compared as a set, and an empty array matches
//! any array. Text answers are compared by kind: each NDJSON line's shape,
//! a Markdown table's header columns (or XO's `No results.`), each SSE
//! frame's event and data shape, and plain text or HTML with ids masked.
//!
//! The sim's ids differ from the recorded ones: the replay learns
//! recorded → sim ids from the answers (201 `{id}`, `Location` headers,
//! task results, token objects, the SSE `init` frame: both JSON documents
//! walked in parallel) and substitutes them in later requests. Token
//! placeholders (`<token-N>`) are learned the same way; `auth: token` uses
//! the token a note names (`cookie <token-6>`) or `<token-1>`, the corpus
//! token. Passwords (`<password>` in the corpus) are replaced by one known
//! password, so Basic auth works for the users the replay creates.
//!
//! Output: `sim fidelity: N/M` (M exchanges compared, N equal), one
//! `DIFF seq=… <tool> <METHOD> <path>: …` line per difference and one
//! `SKIP seq=…` line per exchange not replayed. The test fails unless every
//! DIFF and SKIP is listed in `conformance/real/sim-differences.txt`
//! (format at its top), and for listed entries that no longer differ.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/real/corpus.jsonl");
const DIFFERENCES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/conformance/real/sim-differences.txt"
);
/// Replaces `<password>` (redacted passwords) in request bodies.
const PASSWORD: &str = "corpus-password";
/// Fewest exchanges the real corpus must have compared.
const MIN_COMPARED: usize = 150;

// ---------------------------------------------------------------------------
// corpus

struct Exchange {
    seq: u64,
    scenario: String,
    tool: Option<String>,
    method: String,
    path: String,
    query: String,
    auth: String,
    content_type: Option<String>,
    body: Value,
    status: Option<u16>,
    resp_type: Option<String>,
    location: Option<String>,
    json: Value,
    text: Option<String>,
    truncated: bool,
    note: String,
}

impl Exchange {
    fn parse(v: &Value) -> Exchange {
        let req = &v["request"];
        let resp = &v["response"];
        let s = |x: &Value| x.as_str().map(String::from);
        Exchange {
            seq: v["seq"].as_u64().expect("seq"),
            scenario: s(&v["scenario"]).unwrap_or_default(),
            tool: s(&v["tool"]),
            method: s(&req["method"]).expect("method"),
            path: s(&req["path"]).expect("path"),
            query: s(&req["query"]).unwrap_or_default(),
            auth: s(&req["auth"]).unwrap_or_else(|| "token".into()),
            content_type: s(&req["content_type"]),
            body: req["body"].clone(),
            status: resp["status"].as_u64().map(|n| n as u16),
            resp_type: s(&resp["content_type"]),
            location: s(&resp["location"]),
            json: resp["json"].clone(),
            text: s(&resp["text"]),
            truncated: resp["truncated"] == true,
            note: s(&resp["note"]).unwrap_or_default(),
        }
    }

    /// The tool, or the scenario for requests that are not SDK operations.
    fn name(&self) -> &str {
        self.tool.as_deref().unwrap_or(&self.scenario)
    }

    fn is_stream(&self) -> bool {
        self.status == Some(200)
            && (self.resp_type.as_deref() == Some("text/event-stream")
                || (self.query.contains("watch=true") && self.query.contains("ndjson=true")))
    }

    /// The recorded body, as the comparison sees it.
    fn body(&self) -> Body {
        if !self.json.is_null() {
            return Body::Json(self.json.clone());
        }
        match &self.text {
            None => Body::Empty,
            // a cut JSON document does not parse: the content type says
            Some(_) if self.truncated => Body::Truncated(classify_type_with(
                self.resp_type.as_deref(),
                &self.query,
                || true,
            )),
            Some(t) => classify(self.resp_type.as_deref(), &self.query, t),
        }
    }
}

fn read_corpus() -> (Value, Vec<Exchange>) {
    let raw = std::fs::read_to_string(CORPUS).expect("conformance/real/corpus.jsonl");
    let mut lines = raw.lines().filter(|l| !l.trim().is_empty());
    let header: Value = serde_json::from_str(lines.next().expect("header")).expect("header JSON");
    assert_eq!(header["corpus"], "xo-real", "not a corpus of a real XO");
    let exchanges: Vec<Exchange> = lines
        .map(|l| Exchange::parse(&serde_json::from_str(l).expect("exchange JSON")))
        .collect();
    if let Some(n) = header["exchanges"].as_u64() {
        assert_eq!(n as usize, exchanges.len(), "header's exchange count");
    }
    (header, exchanges)
}

// ---------------------------------------------------------------------------
// ids

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// XO task ids: `0mx9fjve7-5ssqck3nm94` (base 36, a dash).
fn is_task_id(s: &str) -> bool {
    let Some((a, b)) = s.split_once('-') else {
        return false;
    };
    s.starts_with('0')
        && a.len() >= 6
        && !b.is_empty()
        && !b.contains('-')
        && s.bytes()
            .all(|c| c == b'-' || c.is_ascii_digit() || c.is_ascii_lowercase())
}

fn is_token_placeholder(s: &str) -> bool {
    s.strip_prefix("<token-")
        .and_then(|r| r.strip_suffix('>'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

fn id_like(s: &str) -> bool {
    is_uuid(s) || is_task_id(s) || is_token_placeholder(s)
}

/// Recorded id → sim id.
#[derive(Default)]
struct Ids {
    map: HashMap<String, String>,
    targets: HashSet<String>,
}

impl Ids {
    fn learn(&mut self, real: &str, sim: &str) {
        if real == sim || !id_like(real) || sim.is_empty() {
            return;
        }
        if self.map.contains_key(real) || self.targets.contains(sim) {
            return;
        }
        self.map.insert(real.to_string(), sim.to_string());
        self.targets.insert(sim.to_string());
    }

    /// `/rest/v0/users/<id>/…` pairs: segments at the same positions.
    fn learn_path(&mut self, real: &str, sim: &str) {
        let r: Vec<&str> = real.split(['/', '?', '&', '=']).collect();
        let s: Vec<&str> = sim.split(['/', '?', '&', '=']).collect();
        if r.len() == s.len() {
            for (a, b) in r.iter().zip(&s) {
                self.learn(a, b);
            }
        }
    }

    /// Walks a recorded and a sim JSON document in parallel.
    fn learn_json(&mut self, real: &Value, sim: &Value) {
        match (real, sim) {
            (Value::String(a), Value::String(b)) => {
                if a.contains('/') {
                    self.learn_path(a, b);
                } else {
                    self.learn(a, b);
                }
            }
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    if let Some(w) = b.get(k) {
                        self.learn_json(v, w);
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) if a.len() == 1 && b.len() == 1 => {
                self.learn_json(&a[0], &b[0]);
            }
            _ => {}
        }
    }

    fn subst(&self, s: &str) -> String {
        let mut out = s.to_string();
        // longest first: a placeholder never contains another one, but be safe
        let mut keys: Vec<&String> = self
            .map
            .keys()
            .filter(|k| out.contains(k.as_str()))
            .collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        for k in keys {
            out = out.replace(k.as_str(), &self.map[k]);
        }
        out
    }

    fn subst_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) if s == "<password>" => Value::String(PASSWORD.into()),
            Value::String(s) => Value::String(self.subst(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst_json(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (self.subst(k), self.subst_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// bodies and their shapes

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Json,
    Ndjson,
    Markdown,
    Sse,
    Html,
    Text,
}

#[derive(Debug, Clone)]
enum Body {
    Empty,
    Json(Value),
    Ndjson(Vec<Value>),
    /// Header columns, or `None` for a text that is not a table.
    Markdown(Option<BTreeSet<String>>, String),
    Sse(Vec<(String, Value)>),
    /// HTML or plain text, ids masked.
    Text(TextKind, String),
    /// A recorded answer cut by the recorder: only its kind is known.
    Truncated(TextKind),
}

impl Body {
    fn kind(&self) -> &'static str {
        match self {
            Body::Empty => "no body",
            Body::Json(_) => "JSON",
            Body::Ndjson(_) => "NDJSON",
            Body::Markdown(..) => "Markdown",
            Body::Sse(_) => "SSE",
            Body::Text(TextKind::Html, _) => "HTML",
            Body::Text(..) => "text",
            Body::Truncated(k) => match k {
                TextKind::Json => "JSON",
                TextKind::Ndjson => "NDJSON",
                TextKind::Markdown => "Markdown",
                TextKind::Sse => "SSE",
                TextKind::Html => "HTML",
                TextKind::Text => "text",
            },
        }
    }
}

fn classify_type(content_type: Option<&str>, query: &str, text: &str) -> TextKind {
    classify_type_with(content_type, query, || {
        serde_json::from_str::<Value>(text).is_ok()
    })
}

/// `parses`: whether a `json` content type's text is one JSON document.
fn classify_type_with(
    content_type: Option<&str>,
    query: &str,
    parses: impl FnOnce() -> bool,
) -> TextKind {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("event-stream") {
        TextKind::Sse
    } else if ct.contains("ndjson") || (ct.is_empty() && query.contains("ndjson=true")) {
        TextKind::Ndjson
    } else if ct.contains("markdown") {
        TextKind::Markdown
    } else if ct.contains("html") {
        TextKind::Html
    } else if ct.contains("json") && parses() {
        TextKind::Json
    } else {
        TextKind::Text
    }
}

/// Masks ids (UUIDs, task ids, token placeholders and token secrets).
fn mask_ids(text: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if id_like(word) || (word.len() >= 20 && word.bytes().all(|c| c.is_ascii_alphanumeric())) {
            out.push_str("<id>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        // a token placeholder is one word, `<` and `>` included
        if c == '<' {
            if let Some(end) = rest.find('>') {
                if is_token_placeholder(&rest[..=end]) {
                    flush(&mut word, &mut out);
                    out.push_str("<id>");
                    rest = &rest[end + 1..];
                    continue;
                }
            }
        }
        if c.is_ascii_alphanumeric() || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut word, &mut out);
    out
}

fn classify(content_type: Option<&str>, query: &str, text: &str) -> Body {
    if text.is_empty() {
        return Body::Empty;
    }
    match classify_type(content_type, query, text) {
        TextKind::Json => Body::Json(serde_json::from_str(text).unwrap_or(Value::Null)),
        TextKind::Ndjson => Body::Ndjson(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    serde_json::from_str(l).unwrap_or_else(|_| Value::String("<not JSON>".into()))
                })
                .collect(),
        ),
        TextKind::Markdown => {
            let first = text.lines().next().unwrap_or("").trim();
            let columns = first.starts_with('|').then(|| {
                first
                    .split('|')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect()
            });
            let label = if columns.is_some() {
                String::new()
            } else {
                first.to_string()
            };
            Body::Markdown(columns, label)
        }
        TextKind::Sse => {
            let mut frames = Vec::new();
            for block in text.split("\n\n") {
                let mut event = "message".to_string();
                let mut data = String::new();
                let mut any = false;
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = e.trim().to_string();
                        any = true;
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim());
                        any = true;
                    }
                }
                if any {
                    let v = serde_json::from_str(&data).unwrap_or(Value::String(data));
                    frames.push((event, v));
                }
            }
            Body::Sse(frames)
        }
        k => Body::Text(k, mask_ids(text.trim())),
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Object keys with ids masked (maps keyed by ids compare as one key).
fn norm_keys(m: &Map<String, Value>) -> BTreeMap<String, Vec<&Value>> {
    let mut out: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for (k, v) in m {
        let key = if id_like(k) || k.starts_with("OpaqueRef:") {
            "<id>".to_string()
        } else {
            k.clone()
        };
        out.entry(key).or_default().push(v);
    }
    out
}

/// Appends one line per shape difference between a real and a sim value.
fn diff_shape(path: &str, real: &Value, sim: &Value, out: &mut Vec<String>) {
    match (real, sim) {
        (Value::Object(r), Value::Object(s)) => {
            let (r, s) = (norm_keys(r), norm_keys(s));
            for k in r.keys().filter(|k| !s.contains_key(*k)) {
                out.push(format!("{path}.{k} only in real"));
            }
            for k in s.keys().filter(|k| !r.contains_key(*k)) {
                out.push(format!("{path}.{k} only in sim"));
            }
            for (k, rv) in &r {
                if let Some(sv) = s.get(k) {
                    let p = format!("{path}.{k}");
                    // several id keys: compare them as array elements
                    let ra = Value::Array(rv.iter().map(|v| (*v).clone()).collect());
                    let sa = Value::Array(sv.iter().map(|v| (*v).clone()).collect());
                    if rv.len() == 1 && sv.len() == 1 {
                        diff_shape(&p, rv[0], sv[0], out);
                    } else {
                        diff_shape(&p, &ra, &sa, out);
                    }
                }
            }
        }
        (Value::Array(r), Value::Array(s)) => diff_elements(path, r, s, out),
        _ if value_kind(real) == value_kind(sim) => {}
        _ => out.push(format!(
            "{path} is {} in real, {} in sim",
            value_kind(real),
            value_kind(sim)
        )),
    }
}

fn shape_eq(a: &Value, b: &Value) -> bool {
    let mut v = Vec::new();
    diff_shape("", a, b, &mut v);
    v.is_empty()
}

fn distinct_shapes(items: &[Value]) -> Vec<&Value> {
    let mut out: Vec<&Value> = Vec::new();
    for it in items {
        if !out.iter().any(|o| shape_eq(o, it) && shape_eq(it, o)) {
            out.push(it);
        }
    }
    out
}

/// Element shapes compared as sets; an empty side matches anything.
fn diff_elements(path: &str, real: &[Value], sim: &[Value], out: &mut Vec<String>) {
    if real.is_empty() || sim.is_empty() {
        return;
    }
    let p = format!("{path}[]");
    let r = distinct_shapes(real);
    let s = distinct_shapes(sim);
    if r.len() == 1 && s.len() == 1 {
        diff_shape(&p, r[0], s[0], out);
        return;
    }
    let r_alone: Vec<&Value> = r
        .iter()
        .copied()
        .filter(|x| !s.iter().any(|y| shape_eq(x, y)))
        .collect();
    let s_alone: Vec<&Value> = s
        .iter()
        .copied()
        .filter(|y| !r.iter().any(|x| shape_eq(x, y)))
        .collect();
    for x in &r_alone {
        // the closest sim element: same kind, then fewest differences
        let best = s.iter().min_by_key(|y| {
            let mut v = Vec::new();
            diff_shape(&p, x, y, &mut v);
            (value_kind(x) != value_kind(y), v.len())
        });
        match best {
            Some(y) => diff_shape(&p, x, y, out),
            None => out.push(format!("{p}: a real element shape has no sim match")),
        }
    }
    if r_alone.is_empty() && !s_alone.is_empty() {
        for y in &s_alone {
            let best = r.iter().min_by_key(|x| {
                let mut v = Vec::new();
                diff_shape(&p, x, y, &mut v);
                (value_kind(x) != value_kind(y), v.len())
            });
            if let Some(x) = best {
                diff_shape(&p, x, y, out);
            }
        }
    }
}

fn diff_body(real: &Body, sim: &Body, out: &mut Vec<String>) {
    match (real, sim) {
        (Body::Empty, Body::Empty) => {}
        // only the kind of a body the recorder cut is known
        (Body::Truncated(_), b) => {
            if real.kind() != b.kind() {
                out.push(format!(
                    "body is {} in real, {} in sim",
                    real.kind(),
                    b.kind()
                ));
            }
        }
        (Body::Json(r), Body::Json(s)) => diff_shape("$", r, s, out),
        (Body::Ndjson(r), Body::Ndjson(s)) => diff_elements("lines", r, s, out),
        (Body::Ndjson(r), Body::Empty) | (Body::Empty, Body::Ndjson(r)) if r.is_empty() => {}
        (Body::Markdown(rc, rl), Body::Markdown(sc, sl)) => match (rc, sc) {
            (Some(r), Some(s)) => {
                let only_r: Vec<&String> = r.difference(s).collect();
                let only_s: Vec<&String> = s.difference(r).collect();
                if !only_r.is_empty() {
                    out.push(format!("Markdown columns only in real: {only_r:?}"));
                }
                if !only_s.is_empty() {
                    out.push(format!("Markdown columns only in sim: {only_s:?}"));
                }
            }
            (None, None) if rl == sl => {}
            _ => out.push(format!(
                "Markdown: {} in real, {} in sim",
                rc.as_ref().map_or(format!("{rl:?}"), |_| "a table".into()),
                sc.as_ref().map_or(format!("{sl:?}"), |_| "a table".into())
            )),
        },
        (Body::Sse(r), Body::Sse(s)) => {
            for (event, data) in r {
                if !s.iter().any(|(e, d)| e == event && shape_eq(data, d)) {
                    match s.iter().find(|(e, _)| e == event) {
                        Some((_, d)) => diff_shape(&format!("event {event}"), data, d, out),
                        None => out.push(format!("SSE event {event} only in real")),
                    }
                }
            }
            for (event, _) in s {
                if !r.iter().any(|(e, _)| e == event) {
                    out.push(format!("SSE event {event} only in sim"));
                }
            }
        }
        (Body::Text(rk, r), Body::Text(sk, s)) if rk == sk => {
            if r != s {
                out.push(format!("text {r:?} in real, {s:?} in sim"));
            }
        }
        _ => out.push(format!(
            "body is {} in real, {} in sim",
            real.kind(),
            sim.kind()
        )),
    }
    out.dedup();
}

// ---------------------------------------------------------------------------
// the replay

enum Outcome {
    Equal,
    Diff(String),
    Skip(String),
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: Body,
    raw_json: Option<Value>,
}

/// A stream's status and content type, once its head came.
type Head = Arc<Mutex<Option<(u16, Option<String>)>>>;

struct Stream {
    index: usize,
    scenario: String,
    status: Head,
    buf: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

struct Replay {
    sim: xo_sim::Sim,
    client: reqwest::Client,
    ids: Ids,
    /// Recorded user id → name, for Basic auth as that user.
    user_names: HashMap<String, String>,
    streams: Vec<Stream>,
    outcomes: Vec<Option<Outcome>>,
}

fn placeholder_in(note: &str) -> Option<String> {
    let start = note.find("<token-")?;
    let end = note[start..].find('>')? + start + 1;
    let p = &note[start..end];
    is_token_placeholder(p).then(|| p.to_string())
}

impl Replay {
    fn url(&self, path: &str, query: &str) -> String {
        let mut u = format!("{}{}", self.sim.url(), self.ids.subst(path));
        if !query.is_empty() {
            u.push('?');
            u.push_str(&self.ids.subst(query));
        }
        u
    }

    fn token_for(&self, ex: &Exchange) -> String {
        let ph = placeholder_in(&ex.note).unwrap_or_else(|| "<token-1>".into());
        match self.ids.map.get(&ph) {
            Some(t) => t.clone(),
            None if ph == "<token-1>" => self.sim.token().to_string(),
            None => ph,
        }
    }

    /// Who a recorded Basic auth request authenticated as.
    fn basic_for(&self, ex: &Exchange) -> (String, String) {
        let (admin, admin_pw) = self.sim.admin_credentials();
        let from_path = |p: &str| -> Option<String> {
            let rest = p.split("/users/").nth(1)?;
            Some(rest.split('/').next()?.to_string())
        };
        let mut rid = from_path(&ex.path);
        if rid.as_deref() == Some("me") {
            rid = ex.location.as_deref().and_then(from_path);
        }
        let (user, pw) = match rid.and_then(|r| self.user_names.get(&r)) {
            Some(name) => (name.clone(), PASSWORD.to_string()),
            None => (admin.to_string(), admin_pw.to_string()),
        };
        if ex.note.contains("wrong password") {
            (user, "wrong-password".into())
        } else {
            (user, pw)
        }
    }

    fn request(&self, ex: &Exchange, query: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(ex.method.as_bytes()).expect("method");
        let mut rb = self.client.request(method, self.url(&ex.path, query));
        match ex.auth.as_str() {
            "token" => {
                rb = rb.header(
                    "cookie",
                    format!("authenticationToken={}", self.token_for(ex)),
                )
            }
            "bad-token" => rb = rb.header("cookie", "authenticationToken=not-a-valid-token"),
            "basic" => {
                let (u, p) = self.basic_for(ex);
                rb = rb.basic_auth(u, Some(p));
            }
            _ => {}
        }
        if !ex.body.is_null() {
            let body = self.ids.subst_json(&ex.body);
            rb = rb
                .header(
                    "content-type",
                    ex.content_type.as_deref().unwrap_or("application/json"),
                )
                .body(serde_json::to_vec(&body).expect("body"));
        }
        rb
    }

    async fn send(&self, ex: &Exchange) -> Result<Answer, String> {
        let resp = self
            .request(ex, &ex.query)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("no answer from the sim: {e}"))?;
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("the sim's body failed: {e}"))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = classify(ct.as_deref(), &ex.query, &text);
        let raw_json = match &body {
            Body::Json(v) => Some(v.clone()),
            _ => None,
        };
        Ok(Answer {
            status,
            location,
            body,
            raw_json,
        })
    }

    fn learn(&mut self, ex: &Exchange, ans: &Answer) {
        if let (Some(r), Some(s)) = (&ex.location, &ans.location) {
            self.ids.learn_path(r, s);
        }
        if let Some(s) = &ans.raw_json {
            self.ids.learn_json(&ex.json, s);
        }
        if ex.tool.as_deref() == Some("create_user") && ex.status == Some(201) {
            if let (Some(rid), Some(name)) = (ex.json["id"].as_str(), ex.body["name"].as_str()) {
                self.user_names.insert(rid.to_string(), name.to_string());
            }
        }
    }

    /// Like the recorder, which waited for a task to end before reading,
    /// aborting or deleting it (the sim's tasks last longer than XO's):
    /// `GET /tasks/<id>?wait=true` first, unless the recording shows the
    /// task still pending.
    async fn wait_task_like_recorder(&self, ex: &Exchange) {
        let Some(rest) = ex.path.strip_prefix("/rest/v0/tasks/") else {
            return;
        };
        let id = rest.split('/').next().unwrap_or_default();
        if !self.ids.map.contains_key(id) || ex.json["status"] == "pending" {
            return;
        }
        let url = format!(
            "{}/rest/v0/tasks/{}?wait=true",
            self.sim.url(),
            self.ids.subst(id)
        );
        let _ = self
            .client
            .get(url)
            .header(
                "cookie",
                format!("authenticationToken={}", self.token_for(ex)),
            )
            .timeout(Duration::from_secs(10))
            .send()
            .await;
    }

    async fn open_stream(&mut self, index: usize, ex: &Exchange) {
        let status: Head = Arc::new(Mutex::new(None));
        let buf = Arc::new(Mutex::new(Vec::new()));
        let rb = self.request(ex, &ex.query);
        let (st, bf) = (status.clone(), buf.clone());
        let task = tokio::spawn(async move {
            let Ok(mut resp) = rb.send().await else {
                return;
            };
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            *st.lock().unwrap() = Some((resp.status().as_u16(), ct));
            while let Ok(Some(chunk)) = resp.chunk().await {
                bf.lock().unwrap().extend_from_slice(&chunk);
            }
        });
        // SSE: later requests name the connection of the init frame
        if ex.resp_type.as_deref() == Some("text/event-stream") {
            let real = match ex.body() {
                Body::Sse(frames) => frames.into_iter().find(|(e, _)| e == "init"),
                _ => None,
            };
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
                if let Body::Sse(frames) = classify(Some("text/event-stream"), "", &text) {
                    if let (Some((_, r)), Some((_, s))) =
                        (&real, frames.iter().find(|(e, _)| e == "init"))
                    {
                        self.ids.learn_json(r, s);
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        self.streams.push(Stream {
            index,
            scenario: ex.scenario.clone(),
            status,
            buf,
            task,
        });
    }

    /// Ends a stream once what arrived matches the recording, or after 2 s.
    async fn close_stream(&mut self, s: Stream, ex: &Exchange) {
        let real = ex.body();
        let deadline = Instant::now() + Duration::from_secs(2);
        let outcome = loop {
            let head = s.status.lock().unwrap().clone();
            let text = String::from_utf8_lossy(&s.buf.lock().unwrap()).into_owned();
            if Instant::now() >= deadline {
                show(ex, &format!("{head:?} {text}"));
            }
            let mut out = Vec::new();
            match &head {
                None => out.push("no status line from the sim".to_string()),
                Some((status, ct)) => {
                    if Some(*status) != ex.status {
                        out.push(format!(
                            "status {} in real, {status} in sim",
                            ex.status.unwrap_or(0)
                        ));
                    }
                    let ct = ct.clone().or_else(|| ex.resp_type.clone());
                    // the recorder stopped reading after these: compare as
                    // many lines or frames
                    let sim = match (classify(ct.as_deref(), &ex.query, &text), &real) {
                        (Body::Ndjson(mut v), Body::Ndjson(r)) => {
                            v.truncate(r.len());
                            Body::Ndjson(v)
                        }
                        (Body::Sse(mut v), Body::Sse(r)) => {
                            v.truncate(r.len());
                            Body::Sse(v)
                        }
                        (b, _) => b,
                    };
                    diff_body(&real, &sim, &mut out);
                }
            }
            if out.is_empty() {
                break Outcome::Equal;
            }
            if Instant::now() >= deadline {
                break Outcome::Diff(summarize(out));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        s.task.abort();
        self.outcomes[s.index] = Some(outcome);
    }

    async fn close_streams(&mut self, exchanges: &[Exchange], keep_scenario: Option<&str>) {
        let streams = std::mem::take(&mut self.streams);
        for s in streams {
            if keep_scenario.is_some_and(|k| k == s.scenario) {
                self.streams.push(s);
            } else {
                let ex = &exchanges[s.index];
                self.close_stream(s, ex).await;
            }
        }
    }

    fn compare(ex: &Exchange, ans: &Answer) -> Outcome {
        show(ex, &format!("{} {:?}", ans.status, ans.body));
        let mut out = Vec::new();
        if Some(ans.status) != ex.status {
            out.push(format!(
                "status {} in real, {} in sim",
                ex.status.unwrap_or(0),
                ans.status
            ));
        }
        match (&ex.location, &ans.location) {
            (Some(_), None) => out.push("Location header only in real".into()),
            (None, Some(_)) => out.push("Location header only in sim".into()),
            _ => {}
        }
        diff_body(&ex.body(), &ans.body, &mut out);
        if out.is_empty() {
            Outcome::Equal
        } else {
            Outcome::Diff(summarize(out))
        }
    }
}

/// `SIM_FIDELITY_SHOW=<seq>,<seq>…` prints the sim's answers of those
/// exchanges next to the recorded ones (to study a difference).
fn show(ex: &Exchange, sim: &str) {
    let Ok(list) = std::env::var("SIM_FIDELITY_SHOW") else {
        return;
    };
    if list.split(',').any(|s| s.trim() == ex.seq.to_string()) {
        println!(
            "SHOW seq={} real: {} {:?}",
            ex.seq,
            ex.status.unwrap_or(0),
            ex.body()
        );
        println!("SHOW seq={} sim:  {sim}", ex.seq);
    }
}

fn summarize(mut out: Vec<String>) -> String {
    const SHOWN: usize = 4;
    let more = out.len().saturating_sub(SHOWN);
    out.truncate(SHOWN);
    let mut s = out.join("; ");
    if more > 0 {
        s.push_str(&format!("; (+{more} more)"));
    }
    s
}

/// Why an exchange is not replayed, if it is not.
fn skip_reason(ex: &Exchange) -> Option<String> {
    if ex.status.is_none() {
        let ms = ex.note.clone();
        return Some(format!("the real server did not answer ({ms})"));
    }
    if ex.note.contains("over a minute after its creation") {
        return Some("needs a one-minute token to expire (62 s of waiting)".into());
    }
    None
}

async fn replay(exchanges: &[Exchange]) -> Vec<Outcome> {
    // Prism mode (scripts/prism-suite.sh) would flag the corpus's requests
    // that go beyond the official document on purpose
    let sim = xo_sim::Sim::builder()
        .empty()
        .without_prism()
        .start()
        .await
        .expect("start an empty xo-sim");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let mut r = Replay {
        sim,
        client,
        ids: Ids::default(),
        user_names: HashMap::new(),
        streams: Vec::new(),
        outcomes: exchanges.iter().map(|_| None).collect(),
    };
    let mut restarted = false;
    for (i, ex) in exchanges.iter().enumerate() {
        // streams end with their scenario, or when another stream opens
        let keep = (!ex.is_stream()).then_some(ex.scenario.as_str());
        r.close_streams(exchanges, keep).await;
        if let Some(why) = skip_reason(ex) {
            r.outcomes[i] = Some(Outcome::Skip(why));
            continue;
        }
        if ex.is_stream() {
            r.open_stream(i, ex).await;
            continue;
        }
        r.wait_task_like_recorder(ex).await;
        let answer = if ex.scenario == "restart" {
            if !restarted {
                // XO refused valid tokens for ~0.4 s after its restart
                r.sim.restart(Duration::from_millis(400));
                restarted = true;
                r.send(ex).await
            } else {
                // the recorder polled until the first 200
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    let a = r.send(ex).await;
                    match &a {
                        Ok(x) if x.status == 401 && Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        _ => break a,
                    }
                }
            }
        } else {
            r.send(ex).await
        };
        r.outcomes[i] = Some(match answer {
            Ok(a) => {
                r.learn(ex, &a);
                Replay::compare(ex, &a)
            }
            Err(e) => Outcome::Diff(e),
        });
    }
    r.close_streams(exchanges, None).await;
    r.outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Skip("not replayed".into())))
        .collect()
}

// ---------------------------------------------------------------------------
// the listed differences

/// `<tool-or-scenario> <seq>: <reason>` lines; `#` starts a comment.
fn read_differences() -> BTreeMap<u64, (String, String)> {
    let raw = std::fs::read_to_string(DIFFERENCES).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (n, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, reason) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("sim-differences.txt:{}: no ':' in {line:?}", n + 1));
        let mut words = head.split_whitespace();
        let (Some(name), Some(seq), None) = (words.next(), words.next(), words.next()) else {
            panic!(
                "sim-differences.txt:{}: expected `<name> <seq>: <reason>`",
                n + 1
            );
        };
        let seq: u64 = seq
            .parse()
            .unwrap_or_else(|_| panic!("sim-differences.txt:{}: bad seq {seq:?}", n + 1));
        assert!(
            !reason.trim().is_empty(),
            "sim-differences.txt:{}: a reason is required",
            n + 1
        );
        let prev = out.insert(seq, (name.to_string(), reason.trim().to_string()));
        assert!(
            prev.is_none(),
            "sim-differences.txt: seq {seq} listed twice"
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_answers_like_the_real_server() {
    let (_header, exchanges) = read_corpus();
    let outcomes = replay(&exchanges).await;

    let compared = outcomes
        .iter()
        .filter(|o| !matches!(o, Outcome::Skip(_)))
        .count();
    let equal = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Equal))
        .count();
    println!("sim fidelity: {equal}/{compared}");
    let mut unequal: BTreeMap<u64, &str> = BTreeMap::new();
    for (ex, o) in exchanges.iter().zip(&outcomes) {
        if let Outcome::Diff(what) = o {
            println!(
                "DIFF seq={} {} {} {}: {what}",
                ex.seq,
                ex.name(),
                ex.method,
                ex.path
            );
            unequal.insert(ex.seq, ex.name());
        }
    }
    for (ex, o) in exchanges.iter().zip(&outcomes) {
        if let Outcome::Skip(why) = o {
            println!(
                "SKIP seq={} {} {} {}: {why}",
                ex.seq,
                ex.name(),
                ex.method,
                ex.path
            );
            unequal.insert(ex.seq, ex.name());
        }
    }

    let listed = read_differences();
    let mut problems = Vec::new();
    for (seq, name) in &unequal {
        match listed.get(seq) {
            None => problems.push(format!("seq {seq} ({name}) differs but is not listed")),
            Some((n, _)) if n != name => problems.push(format!(
                "seq {seq} is listed as {n}, the corpus says {name}"
            )),
            Some(_) => {}
        }
    }
    for (seq, (name, _)) in &listed {
        if !unequal.contains_key(seq) {
            problems.push(format!(
                "stale entry: {name} {seq} no longer differs (remove it from sim-differences.txt)"
            ));
        }
    }
    assert!(
        compared >= MIN_COMPARED,
        "only {compared} exchanges compared (at least {MIN_COMPARED} expected)"
    );
    assert!(
        problems.is_empty(),
        "conformance/real/sim-differences.txt is out of date:\n  {}",
        problems.join("\n  ")
    );
}
