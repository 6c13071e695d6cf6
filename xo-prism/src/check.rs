//! The worker: the replay server, Prism's passes and the verdicts.

use std::io::{self, Read, Write};
use std::net::{TcpListener as StdListener, TcpStream as StdStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::mpsc;

use super::defects::{Defect, FindingCtx, known_defect};
use super::tap::is_json;
use super::{API_PREFIX, CHECK_TIMEOUT, Job, REPLAY_HEADER, Replay, Shared, lock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Request,
    Response,
}

impl Side {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Side::Request => "request",
            Side::Response => "response",
        }
    }
}

/// One entry of Prism's `sl-violations` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    pub(super) side: Side,
    pub(super) location: String,
    pub(super) severity: String,
    pub(super) message: String,
}

/// Parses Prism's `sl-violations` header (a JSON array, cut at 8 KiB with a
/// `Too many violations! ` prefix: the complete entries are kept and the cut
/// is reported as one more error).
fn parse_findings(header: &str) -> Vec<Finding> {
    let (text, cut) = match header.strip_prefix("Too many violations! ") {
        Some(rest) => (rest, true),
        None => (header, false),
    };
    let mut out = Vec::new();
    let entries: Vec<Value> = match serde_json::from_str::<Vec<Value>>(text) {
        Ok(v) => v,
        Err(_) => complete_objects(text),
    };
    for e in entries {
        let loc: Vec<String> = e["location"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let side = if loc.first().map(String::as_str) == Some("request") {
            Side::Request
        } else {
            Side::Response
        };
        out.push(Finding {
            side,
            location: loc.join("."),
            severity: e["severity"].as_str().unwrap_or("Error").to_string(),
            message: e["message"].as_str().unwrap_or_default().to_string(),
        });
    }
    if cut {
        out.push(Finding {
            side: Side::Response,
            location: "response".into(),
            severity: "Error".into(),
            message: "more violations: Prism cut its sl-violations header at 8 KiB".into(),
        });
    }
    out
}

/// The complete `{…}` objects of a cut JSON array.
fn complete_objects(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let (mut depth, mut start, mut in_str, mut esc) = (0usize, None, false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    if let Some(s) = start.take() {
                        if let Ok(v) = serde_json::from_str(&text[s..=i]) {
                            out.push(v);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

pub(super) fn worker(
    shared: Arc<Shared>,
    replay: StdListener,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            shared
                .report
                .line(&["error", &format!("xo-sim Prism worker: no runtime: {e}")]);
            return;
        }
    };
    rt.block_on(async move {
        match tokio::net::TcpListener::from_std(replay) {
            Ok(listener) => {
                let app = Router::new()
                    .fallback(replay_answer)
                    .with_state(shared.clone());
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                });
            }
            Err(e) => shared
                .report
                .line(&["error", &format!("xo-sim Prism replay server: {e}")]),
        }
        while let Some(job) = jobs.recv().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let _permit = shared.limit.acquire().await;
                check(&shared, job).await;
            });
        }
    });
}

/// The replay server: answers Prism's forwarded request with the recorded
/// answer of its exchange.
async fn replay_answer(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let id = req
        .headers()
        .get(REPLAY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(replay) = id.and_then(|id| lock(&sh.replays).remove(&id)) else {
        return (
            StatusCode::from_u16(599).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "xo-sim replay: no recorded answer for this request",
        )
            .into_response();
    };
    let mut r = Response::new(Body::from(replay.body));
    *r.status_mut() = replay.status;
    for (k, v) in &replay.headers {
        if !hop_by_hop(k.as_str()) && k != header::CONTENT_LENGTH {
            r.headers_mut().append(k.clone(), v.clone());
        }
    }
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "expect"
    )
}

/// Path relative to `/rest/v0` (Prism's copy of the document has no prefix)
/// and query; a path outside the API is sent as is (Prism finds no route).
fn prism_target(target: &str) -> (String, String, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let route = match path.strip_prefix(API_PREFIX) {
        Some("") => "/".to_string(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => path.to_string(),
    };
    let full = if query.is_empty() {
        route.clone()
    } else {
        format!("{route}?{query}")
    };
    (full, route, query.to_string())
}

/// What Prism said about one replay of an exchange.
enum Pass {
    Findings(Vec<Finding>),
    Failed(String),
}

/// Replays the exchange through Prism with this answer body and headers.
async fn prism_pass(sh: &Shared, job: &Job, target: &str, body: Bytes, headers: HeaderMap) -> Pass {
    let id = sh.next_id.fetch_add(1, Ordering::SeqCst);
    lock(&sh.replays).insert(
        id,
        Replay {
            status: job.status,
            headers,
            body,
        },
    );
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, ask_prism(sh, job, target, id)).await;
    let replay_left = lock(&sh.replays).remove(&id).is_some();
    match outcome {
        Ok(Ok((_, Some(header), _))) => Pass::Findings(parse_findings(&header)),
        Ok(Ok((status, None, _))) if status == job.status && !replay_left => {
            Pass::Findings(Vec::new())
        }
        Ok(Ok((status, None, body))) => {
            // Prism answered by itself: it could not parse the request, or
            // the replay server was not reached.
            let detail = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v["detail"]
                        .as_str()
                        .or(v["title"].as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
            Pass::Findings(vec![Finding {
                side: Side::Request,
                location: "request".into(),
                severity: "Error".into(),
                message: format!("Prism answered {status} itself: {detail}"),
            }])
        }
        Ok(Err(e)) => Pass::Failed(format!("Prism: {e}")),
        Err(_) => Pass::Failed(format!("Prism did not answer within {CHECK_TIMEOUT:?}")),
    }
}

/// How a finding is counted.
#[derive(Clone, Copy)]
enum Verdict {
    /// Against the document, not explained: the simulator's answer or the
    /// SDK's request is wrong.
    Violation,
    /// A known defect of the document.
    Defect(&'static Defect),
    /// An invalid request the simulator refused with a 4xx, as XO does:
    /// a negative test sent it on purpose.
    Refused,
    /// Caused by an object the test put in the simulator itself
    /// (`Sim::put_object`, `Sim::update_object`), e.g. a value a future XO
    /// may send.
    Injected,
    /// Prism's warnings (severity below error).
    Warning,
}

impl Verdict {
    fn kind(self) -> &'static str {
        match self {
            Verdict::Violation => "violation",
            Verdict::Defect(_) => "defect",
            Verdict::Refused => "refused",
            Verdict::Injected => "injected",
            Verdict::Warning => "warning",
        }
    }
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// An NDJSON answer as the JSON array of its lines (the object of each
/// `[event, object]` line of a watch); `None` when a line is not JSON. An
/// unterminated last line (the client left, or the capture was cut) is
/// left out.
fn ndjson_as_array(body: &[u8], watch: bool) -> Option<Bytes> {
    let complete = match body.iter().rposition(|&b| b == b'\n') {
        Some(i) => &body[..=i],
        None => &[][..],
    };
    let mut items = Vec::new();
    for line in complete.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: Value = serde_json::from_slice(line).ok()?;
        match (watch, v) {
            (true, Value::Array(mut pair)) if pair.len() == 2 && pair[0].is_string() => {
                items.push(pair.remove(1))
            }
            (true, _) => return None,
            (false, v) => items.push(v),
        }
    }
    serde_json::to_vec(&Value::Array(items))
        .ok()
        .map(Bytes::from)
}

/// Whether an object of an answer is one the test injected.
fn is_injected(v: &Value, injected: &[String]) -> bool {
    let id = v["id"]
        .as_str()
        .or_else(|| v["uuid"].as_str())
        .or_else(|| v["href"].as_str().and_then(|h| h.rsplit('/').next()));
    id.is_some_and(|id| injected.iter().any(|i| i == id))
}

async fn check(sh: &Shared, mut job: Job) {
    let (target, route, query) = prism_target(&job.meta.target);
    let template = sh.templates.find(&route).map(str::to_string);
    let mt = media_type(&job.resp_headers);
    let ctx_of = |f: &'_ Finding| -> Option<&'static Defect> {
        known_defect(&FindingCtx {
            method: &job.meta.method,
            template: template.as_deref(),
            query: &query,
            media_type: &mt,
            finding: f,
        })
    };
    let first = match prism_pass(
        sh,
        &job,
        &target,
        job.resp_body.clone(),
        job.resp_headers.clone(),
    )
    .await
    {
        Pass::Findings(f) => f,
        Pass::Failed(why) => return finish_unchecked(sh, &mut job, "error", &why),
    };
    let client_error = job.status.is_client_error();
    let mut verdicts: Vec<(Verdict, Finding)> = Vec::new();
    for f in first {
        let error = f.severity == "Error" || f.message == "Selected route not found";
        let v = match f.side {
            _ if !error => Verdict::Warning,
            Side::Request if client_error => Verdict::Refused,
            Side::Request => Verdict::Violation,
            Side::Response => ctx_of(&f).map_or(Verdict::Violation, Verdict::Defect),
        };
        verdicts.push((v, f));
    }
    // The body the document's schema can be applied to, when the first pass
    // could not (NDJSON): its findings are real.
    let mut json_body = is_json(&job.resp_headers).then(|| job.resp_body.clone());
    if mt == "application/x-ndjson" {
        let watch =
            form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "watch" && v == "true");
        match ndjson_as_array(&job.resp_body, watch) {
            Some(array) => {
                let mut headers = job.resp_headers.clone();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                match prism_pass(sh, &job, &target, array.clone(), headers).await {
                    Pass::Findings(second) => {
                        job.notes.push(
                            "NDJSON answer also checked as the JSON array of its lines".into(),
                        );
                        for f in second.into_iter().filter(|f| f.side == Side::Response) {
                            let v = if f.severity == "Error" {
                                Verdict::Violation
                            } else {
                                Verdict::Warning
                            };
                            verdicts.push((v, f));
                        }
                        json_body = Some(array);
                    }
                    Pass::Failed(why) => return finish_unchecked(sh, &mut job, "error", &why),
                }
            }
            None => verdicts.push((
                Verdict::Violation,
                Finding {
                    side: Side::Response,
                    location: "response.body".into(),
                    severity: "Error".into(),
                    message: "an NDJSON line is not JSON".into(),
                },
            )),
        }
    }
    // Findings about objects the test injected: checked again without them.
    let injected = lock(&job.meta.injected).clone();
    let body_violations = verdicts
        .iter()
        .any(|(v, f)| matches!(v, Verdict::Violation) && f.location.starts_with("response.body"));
    if body_violations && !injected.is_empty() {
        if let Some(body) = json_body
            .as_ref()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        {
            let remaining = match &body {
                Value::Array(items) if items.iter().any(|i| is_injected(i, &injected)) => Some(
                    items
                        .iter()
                        .filter(|i| !is_injected(i, &injected))
                        .cloned()
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            };
            let whole = body.is_object() && is_injected(&body, &injected);
            let again = match remaining {
                Some(items) => {
                    let mut headers = job.resp_headers.clone();
                    headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    let bytes =
                        Bytes::from(serde_json::to_vec(&Value::Array(items)).unwrap_or_default());
                    match prism_pass(sh, &job, &target, bytes, headers).await {
                        Pass::Findings(f) => Some(f),
                        Pass::Failed(why) => return finish_unchecked(sh, &mut job, "error", &why),
                    }
                }
                None if whole => Some(Vec::new()),
                None => None,
            };
            if let Some(again) = again {
                job.notes.push(if whole {
                    "the answer is an object the test injected".into()
                } else {
                    "answer also checked without the objects the test injected".into()
                });
                let still: Vec<(String, String)> = again
                    .iter()
                    .filter(|f| f.side == Side::Response && f.severity == "Error")
                    .map(|f| (f.location.clone(), f.message.clone()))
                    .collect();
                for (v, f) in &mut verdicts {
                    if matches!(v, Verdict::Violation)
                        && f.location.starts_with("response.body")
                        && !still
                            .iter()
                            .any(|(l, m)| *l == f.location && *m == f.message)
                    {
                        *v = Verdict::Injected;
                    }
                }
            }
        }
    }
    record(sh, &job, template.as_deref(), &verdicts);
    sh.pending.fetch_sub(1, Ordering::SeqCst);
    if let Some(done) = job.done.take() {
        let _ = done.send(());
    }
}

/// Writes an exchange's findings and its `exchange` line; counts them.
fn record(sh: &Shared, job: &Job, template: Option<&str>, verdicts: &[(Verdict, Finding)]) {
    let meta = &job.meta;
    let c = &meta.counters;
    let route = meta.route();
    let status = job.status.as_u16().to_string();
    let mut violations = 0;
    for (v, f) in verdicts {
        let message = if f.message == "Selected route not found" {
            "no operation of the official document matches this method and path"
        } else {
            f.message.as_str()
        };
        let mut fields = vec![
            v.kind(),
            &meta.origin,
            &route,
            &status,
            f.side.as_str(),
            &f.location,
            message,
        ];
        let pointer;
        match v {
            Verdict::Violation => {
                violations += 1;
                c.violations.fetch_add(1, Ordering::SeqCst);
            }
            Verdict::Defect(d) => {
                c.known_defects.fetch_add(1, Ordering::SeqCst);
                pointer = template.map(|t| (d.pointer)(t)).unwrap_or_default();
                fields.push(d.id);
                fields.push(&pointer);
            }
            Verdict::Refused => {
                c.refused.fetch_add(1, Ordering::SeqCst);
            }
            Verdict::Injected => {
                c.injected.fetch_add(1, Ordering::SeqCst);
            }
            Verdict::Warning => {
                c.warnings.fetch_add(1, Ordering::SeqCst);
            }
        }
        sh.report.line(&fields);
    }
    c.checked.fetch_add(1, Ordering::SeqCst);
    // Checked only thanks to a repair of Prism's copy of the document.
    if let Some(op) = template.map(|t| format!("{} {t}", meta.method)) {
        if let Some(kinds) = sh.affected.get(&op) {
            let kinds: Vec<&str> = kinds.iter().copied().collect();
            sh.report.line(&[
                "repaired-op",
                &meta.origin,
                &route,
                &status,
                &op,
                &kinds.join(","),
            ]);
        }
    }
    let mut result = if violations == 0 {
        "ok".to_string()
    } else {
        format!("violations={violations}")
    };
    for n in &job.notes {
        result.push_str("; ");
        result.push_str(n);
    }
    sh.report
        .line(&["exchange", &meta.origin, &route, &status, &result]);
}

fn finish_unchecked(sh: &Shared, job: &mut Job, kind: &str, why: &str) {
    let meta = &job.meta;
    meta.counters.unchecked.fetch_add(1, Ordering::SeqCst);
    let route = meta.route();
    let status = job.status.as_u16().to_string();
    sh.report.line(&[
        "exchange",
        &meta.origin,
        &route,
        &status,
        &format!("unchecked:{kind}"),
    ]);
    sh.report
        .line(&["unchecked", &meta.origin, &route, &status, kind, why]);
    sh.pending.fetch_sub(1, Ordering::SeqCst);
    if let Some(done) = job.done.take() {
        let _ = done.send(());
    }
}

/// Sends the exchange's request to Prism (HTTP/1.1, one connection per
/// check, blocking I/O off the worker's thread); returns Prism's status, its
/// `sl-violations` header and its body.
async fn ask_prism(
    sh: &Shared,
    job: &Job,
    target: &str,
    id: u64,
) -> Result<(StatusCode, Option<String>, Bytes), String> {
    let mut req = Vec::with_capacity(1024 + job.req_body.len());
    req.extend_from_slice(job.meta.method.as_str().as_bytes());
    req.push(b' ');
    req.extend_from_slice(target.as_bytes());
    req.extend_from_slice(b" HTTP/1.1\r\n");
    let mut put = |k: &[u8], v: &[u8]| {
        req.extend_from_slice(k);
        req.extend_from_slice(b": ");
        req.extend_from_slice(v);
        req.extend_from_slice(b"\r\n");
    };
    put(b"host", sh.prism_addr.to_string().as_bytes());
    put(b"connection", b"close");
    put(REPLAY_HEADER.as_bytes(), id.to_string().as_bytes());
    for (k, v) in &job.meta.headers {
        if !hop_by_hop(k.as_str()) && k != header::HOST && k != header::CONTENT_LENGTH {
            put(k.as_str().as_bytes(), v.as_bytes());
        }
    }
    if !job.req_body.is_empty() {
        put(b"content-length", job.req_body.len().to_string().as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(&job.req_body);
    let addr = sh.prism_addr;
    let raw = tokio::task::spawn_blocking(move || -> io::Result<Vec<u8>> {
        let mut stream = StdStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(CHECK_TIMEOUT))?;
        stream.set_write_timeout(Some(CHECK_TIMEOUT))?;
        stream.write_all(&req)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(raw)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("talking to Prism at {addr}: {e}"))?;
    parse_answer(&raw)
}

/// Parses a whole HTTP/1.1 answer read to the connection's end.
pub(super) fn parse_answer(raw: &[u8]) -> Result<(StatusCode, Option<String>, Bytes), String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("Prism's answer has no complete head")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| format!("bad status line from Prism: {head:.80}"))?;
    let mut violations = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "sl-violations" {
            violations = Some(v.to_string());
        } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, violations, Bytes::from(body)))
}

/// Decodes a chunked body (what can be decoded of it).
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|&n| n > 0) else {
            break;
        };
        let start = eol + 2;
        let stop = (start + size).min(b.len());
        out.extend_from_slice(&b[start..stop]);
        b = &b[(stop + 2).min(b.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_parsed_with_sides() {
        let h = r#"[{"location":["request","query","limit"],"severity":"Error","code":"type","message":"Request query parameter limit must be number"},{"location":["response","body"],"severity":"Warning","message":"x"}]"#;
        let f = parse_findings(h);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].side, Side::Request);
        assert_eq!(f[0].location, "request.query.limit");
        assert_eq!(f[1].side, Side::Response);
        assert_eq!(f[1].severity, "Warning");
    }

    #[test]
    fn a_cut_header_keeps_its_complete_entries_and_counts_the_cut() {
        let h = r#"Too many violations! [{"location":["response","body"],"severity":"Error","message":"a {b}"},{"location":["resp"#;
        let f = parse_findings(h);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].message, "a {b}");
        assert!(f[1].message.contains("cut"));
    }

    #[test]
    fn targets_lose_the_api_prefix() {
        assert_eq!(
            prism_target("/rest/v0/vms?fields=id"),
            ("/vms?fields=id".into(), "/vms".into(), "fields=id".into())
        );
        assert_eq!(prism_target("/rest/v0").0, "/");
        assert_eq!(prism_target("/other").0, "/other");
        assert_eq!(prism_target("/rest/v0x").0, "/rest/v0x");
    }

    #[test]
    fn ndjson_lines_become_an_array() {
        let body = b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":";
        let a: Value = serde_json::from_slice(&ndjson_as_array(body, false).unwrap()).unwrap();
        assert_eq!(a, serde_json::json!([{"id": "a"}, {"id": "b"}]));
        let watch = b"[\"update\",{\"id\":\"t\"}]\n[\"remove\",{\"id\":\"t\"}]\n";
        let a: Value = serde_json::from_slice(&ndjson_as_array(watch, true).unwrap()).unwrap();
        assert_eq!(a, serde_json::json!([{"id": "t"}, {"id": "t"}]));
        assert!(ndjson_as_array(b"nope\n", false).is_none());
        assert!(ndjson_as_array(b"{\"id\":1}\n", true).is_none());
    }

    #[test]
    fn answers_are_parsed_with_chunked_bodies() {
        let raw = b"HTTP/1.1 200 OK\r\nsl-violations: [1]\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (status, v, body) = parse_answer(raw).unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v.as_deref(), Some("[1]"));
        assert_eq!(&body[..], b"abcde");
        assert!(parse_answer(b"HTTP/1.1 200").is_err());
    }

    #[test]
    fn injected_objects_are_found_by_id_or_href() {
        let ids = vec!["x".to_string()];
        assert!(is_injected(&serde_json::json!({"id": "x"}), &ids));
        assert!(is_injected(
            &serde_json::json!({"href": "/rest/v0/vms/x"}),
            &ids
        ));
        assert!(!is_injected(&serde_json::json!({"id": "y"}), &ids));
    }
}
