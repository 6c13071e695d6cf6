//! Secrets never show in `Debug`, `Display`, errors or tracing output, and
//! every call gets a tracing span with tool, method, path template, status,
//! attempt and elapsed time.
//!
//! All tests of this binary share one global tracing subscriber that
//! captures everything at TRACE level (see `support::global_capture`).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;
use xo_sdk::runtime::{
    Backoff, CallOptions, ClientBuilder, ErrorPolicy, HttpMethod, OperationSpec, RequestBodyKind,
    ResponseKind,
};

const TOKEN: &str = "TOKEN-s3cr3t-7f1e";
const PASSWORD: &str = "PASSWORD-s3cr3t-94ab";
const NEW_USER_PASSWORD: &str = "NEWPASS-s3cr3t-0c2d";
const SECRET_ID: &str = "ID-s3cr3t-55aa";

fn assert_clean(what: &str, text: &str) {
    for secret in [TOKEN, PASSWORD, NEW_USER_PASSWORD, SECRET_ID] {
        assert!(!text.contains(secret), "{what} leaks {secret:?}:\n{text}");
    }
    // The Basic header value and the query-encoded token too.
    assert!(
        !text.contains("YWRtaW46UEFTU1dPUkQtczNjcjN0LTk0YWI"),
        "{what} leaks the Basic header"
    );
}

fn dead_url() -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn no_secret_in_debug_display_errors_or_traces() {
    let capture = global_capture();
    let server = Server::start(|req, _| match req.path() {
        p if p.ends_with("/unauthorized") => Reply::json(401, r#"{"error":"invalid credentials"}"#)
            .with_header("WWW-Authenticate", "Basic realm=\"xo\""),
        p if p.ends_with("/garbage") => Reply::json(200, "not json"),
        p if p.ends_with("/hang") => Reply::Hang,
        p if p.ends_with("/away") => {
            Reply::status(307).with_header("Location", "http://127.0.0.1:9/x")
        }
        _ => Reply::json(503, r#"{"error":"busy"}"#),
    })
    .await;

    let mut texts: Vec<(String, String)> = Vec::new();

    // Token client.
    let builder = xo_sdk::Client::builder_for(&API, server.url()).token(TOKEN);
    texts.push(("builder debug".into(), format!("{builder:?}")));
    let c = builder.build().unwrap();
    texts.push(("client debug".into(), format!("{c:?}")));

    // Basic client.
    let basic = xo_sdk::Client::builder_for(&API, server.url())
        .basic("admin", PASSWORD)
        .build()
        .unwrap();
    texts.push(("basic client debug".into(), format!("{basic:?}")));

    // A request whose body holds another password, and an id.
    let mut r = basic.request(&CREATE_USER);
    r.body_field("name", &"bob")
        .body_field("password", &NEW_USER_PASSWORD);
    texts.push(("request debug".into(), format!("{r:?}")));
    let err = r.send_json::<Value>().await.unwrap_err();
    texts.push(("503 error".into(), format!("{err} | {err:?}")));

    for (tool_path, spec) in [
        ("unauthorized", &GET_THING),
        ("garbage", &GET_THING),
        ("away", &GET_THING),
    ] {
        for client in [&c, &basic] {
            let err = call(client, spec, |r| {
                r.path_param("id", &SECRET_ID)
                    .path_param("what", &tool_path);
            })
            .send_json::<Value>()
            .await
            .unwrap_err();
            texts.push((format!("{tool_path} error"), format!("{err} | {err:?}")));
        }
    }

    // Timeouts.
    let err = call(&c, &GET_THING, |r| {
        r.path_param("id", &SECRET_ID)
            .path_param("what", &"hang")
            .options(&CallOptions::new().timeout(Duration::from_millis(100)));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(err.is_timeout());
    texts.push(("timeout".into(), format!("{err} | {err:?}")));

    // Transport errors, including an API whose token travels in the URL.
    let dead = dead_url();
    let qt = xo_sdk::Client::builder_for(&QUERY_TOKEN_API, &dead)
        .token(TOKEN)
        .retry(xo_sdk::RetryConfig::disabled())
        .build()
        .unwrap();
    let err = call(&qt, &QT_GET, |r| {
        r.path_param("id", &SECRET_ID);
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(err.is_transport());
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = src {
        chain.push_str(&format!("{e} / {e:?}\n"));
        src = e.source();
    }
    texts.push(("query-token transport error chain".into(), chain));

    // Configuration errors never quote the secret either.
    let err = xo_sdk::Client::builder_for(&API, "http://127.0.0.1:1")
        .token(format!("{TOKEN}\n"))
        .build()
        .unwrap_err();
    texts.push(("config error".into(), format!("{err} | {err:?}")));
    let builder = ClientBuilder::from_env_lookup(&API, |k| match k {
        "XO_URL" => Some(format!("http://admin:{PASSWORD}@127.0.0.1:1")),
        "XO_TOKEN" => Some(TOKEN.to_owned()),
        _ => None,
    })
    .unwrap();
    texts.push((
        "builder with URL credentials".into(),
        format!("{builder:?}"),
    ));
    let err = builder.build().unwrap_err();
    texts.push(("url credentials error".into(), format!("{err} | {err:?}")));

    for (what, text) in &texts {
        assert_clean(what, text);
    }
    let log = capture.text();
    // The capture works: spans of these calls are in it.
    assert!(log.contains("tool=\"get_thing\""), "{log}");
    assert!(log.contains("tool=\"create_user\""), "{log}");
    assert_clean("tracing output", &log);
}

#[tokio::test]
async fn spans_record_tool_method_path_status_attempt_and_elapsed() {
    let capture = global_capture();
    let server = Server::script(vec![Reply::status(503), Reply::json(200, "{}")]).await;
    call(&client(&server), &TRACED_GET, |r| {
        r.path_param("id", &SECRET_ID);
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let log = capture.text();
    let done: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("tool=\"traced_get\"") && l.contains("call succeeded"))
        .collect();
    assert_eq!(done.len(), 1, "{log}");
    let line = done[0];
    for field in [
        "api_call{",
        "method=\"GET\"",
        "path=\"/traced/{id}\"",
        "status=200",
        "attempt=2",
        "elapsed_ms=",
    ] {
        assert!(line.contains(field), "missing {field} in {line}");
    }
    assert!(
        log.lines()
            .any(|l| l.contains("tool=\"traced_get\"") && l.contains("retrying")),
        "{log}"
    );
    assert!(!log.contains(SECRET_ID));
}

#[tokio::test]
async fn connection_refused_post_is_retried_and_reported_as_transport() {
    let capture = global_capture();
    let c = xo_sdk::Client::builder_for(&API, dead_url())
        .token("tok")
        .build()
        .unwrap();
    let err = call(&c, &REFUSED_POST, |r| {
        r.body_field("x", &1);
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(err.is_transport(), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("refused_post (POST /refused): transport error"),
        "{text}"
    );
    assert!(text.to_ascii_lowercase().contains("refused"), "{text}");
    // Nothing reached a server, so even a POST is retried: 1 + 3 attempts.
    let log = capture.text();
    let mine = |needle: &str| {
        log.lines()
            .filter(|l| l.contains("tool=\"refused_post\"") && l.contains(needle))
            .count()
    };
    assert_eq!(mine("request failed"), 4, "{log}");
    assert_eq!(mine("retrying"), 3, "{log}");
}

static FAST: ErrorPolicy = ErrorPolicy {
    initial_delay_ms: 1,
    backoff: Backoff::Constant,
    ..POLICY
};

const fn spec(tool: &'static str, method: HttpMethod, path: &'static str) -> OperationSpec {
    OperationSpec {
        tool,
        method,
        path,
        access: None,
        request_body: RequestBodyKind::None,
        response: ResponseKind::Json,
        errors: &FAST,
        idempotency: None,
        retry_unsafe: false,
        default_headers: &[],
    }
}

static GET_THING: OperationSpec = spec("get_thing", HttpMethod::Get, "/things/{id}/{what}");
static TRACED_GET: OperationSpec = spec("traced_get", HttpMethod::Get, "/traced/{id}");
static CREATE_USER: OperationSpec = OperationSpec {
    request_body: RequestBodyKind::Json,
    ..spec("create_user", HttpMethod::Post, "/users")
};
static REFUSED_POST: OperationSpec = OperationSpec {
    request_body: RequestBodyKind::Json,
    ..spec("refused_post", HttpMethod::Post, "/refused")
};
