//! What goes on the wire: path and query encoding, hostile values, JSON
//! bodies, credentials, redirects, client configuration. Asserted on what a
//! loopback server actually received.

mod support;

use std::collections::HashMap;

use serde_json::{Value, json};
use support::*;
use xo_sdk::runtime::{Body, USER_AGENT};

/// The test's own encoder (an oracle independent of the runtime's):
/// everything but unreserved characters is escaped, so nothing can act as a
/// delimiter.
fn oracle_encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

const HOSTILE: &[&str] = &[
    "a/b",
    "../../etc/passwd",
    "x/../../admin",
    "..%2F..",
    "%2F",
    "%2e%2e",
    "...",
    "a?b=c",
    "a#frag",
    "100%",
    "%",
    "%zz",
    "a b",
    "+plus+",
    "a\r\nX-Injected: 1",
    "a\nb",
    "a\rb",
    "tab\there",
    "nul\0byte",
    "back\\slash",
    "quote\"'",
    "<>{}|^`",
    "a;b,c",
    "a&b=c",
    "a=b",
    "@evil.example:80",
    "https://evil.example/x",
    "*",
    "~user",
    "été",
    "日本語",
    "emoji 🎉",
    "\u{202e}rtl",
    " HTTP/1.1\r\nHost: evil",
];

#[tokio::test]
async fn hostile_path_and_query_values_never_change_the_request_line_or_headers() {
    let server = Server::always(Reply::json(200, "{}")).await;
    let c = client(&server);

    // A benign request fixes the expected header set.
    call(&c, &GET_VM, |r| {
        r.path_param("id", &"plain").query("filter", &"plain");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let baseline = server.requests()[0].headers.clone();

    for (i, value) in HOSTILE.iter().enumerate() {
        call(&c, &GET_VM, |r| {
            r.path_param("id", value).query("filter", value);
        })
        .send_json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let req = &server.requests()[i + 1];
        let seg = oracle_encode(value, b"");
        let q = oracle_encode(value, b".,*");
        assert_eq!(
            req.request_line,
            format!("GET /rest/v0/vms/{seg}?filter={q} HTTP/1.1"),
            "value {value:?}"
        );
        // The server decodes exactly the caller's value, as one segment.
        let path_tail = req.path().strip_prefix("/rest/v0/vms/").unwrap();
        assert!(!path_tail.contains('/'));
        assert_eq!(percent_decode(path_tail), value.as_bytes());
        assert_eq!(
            percent_decode(req.query().unwrap().strip_prefix("filter=").unwrap()),
            value.as_bytes()
        );
        assert_eq!(req.headers, baseline, "headers changed for {value:?}");
        assert!(req.header("x-injected").is_none());
    }
    assert_eq!(server.count(), HOSTILE.len() + 1);
    assert!(HOSTILE.len() >= 20);
}

#[tokio::test]
async fn dot_segments_and_empty_ids_are_rejected_before_sending() {
    let server = Server::always(Reply::json(200, "{}")).await;
    let c = client(&server);
    for value in ["", ".", ".."] {
        let err = call(&c, &GET_VM, |r| {
            r.path_param("id", &value);
        })
        .send_json::<Value>()
        .await
        .unwrap_err();
        assert!(
            matches!(&err, xo_sdk::Error::InvalidArgument { name, .. } if name == "id"),
            "{value:?}: {err:?}"
        );
        assert!(err.is_invalid_input());
    }
    let err = call(&c, &GET_VM, |_| {})
        .send_json::<Value>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`id`"), "{err}");
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn header_values_that_http_cannot_carry_are_rejected_before_sending() {
    let server = Server::always(Reply::json(200, "{}")).await;
    let c = client(&server);
    for value in ["a\r\nX-Injected: 1", "a\nb", "nul\0", "été", "bell\u{7}"] {
        let err = call(&c, &GET_VM, |r| {
            r.path_param("id", &"vm1").header("X-Request-Id", &value);
        })
        .send_json::<Value>()
        .await
        .unwrap_err();
        assert!(
            matches!(&err, xo_sdk::Error::InvalidArgument { name, .. } if name == "X-Request-Id"),
            "{value:?}: {err:?}"
        );
    }
    assert_eq!(server.count(), 0);
    call(&c, &GET_VM, |r| {
        r.path_param("id", &"vm1")
            .header("X-Request-Id", &"ok value");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    assert_eq!(
        server.requests()[0].header("x-request-id"),
        Some("ok value")
    );
}

#[tokio::test]
async fn query_booleans_are_true_false_and_arrays_are_comma_joined() {
    let server = Server::always(Reply::json(200, "[]")).await;
    call(&client(&server), &LIST_VMS, |r| {
        r.query("fields", &["name_label", "power_state"])
            .query("ndjson", &false)
            .query("sync", &true)
            .query("limit", &10)
            .query("filter", &"power_state:Running");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    assert_eq!(
        server.requests()[0].target,
        "/rest/v0/vms?fields=name_label,power_state&ndjson=false&sync=true&limit=10&filter=power_state%3ARunning"
    );
}

#[tokio::test]
async fn json_body_carries_exactly_the_fields_set() {
    let server = Server::always(Reply::status(204)).await;
    let c = client(&server);
    call(&c, &START_VM, |r| {
        r.path_param("id", &"vm1").body_field("force", &true);
    })
    .send_json::<Value>()
    .await
    .unwrap();
    call(&c, &START_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].body, br#"{"force":true}"#);
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    assert_eq!(reqs[0].header("content-length"), Some("14"));
    assert_eq!(reqs[1].body, b"{}");
}

#[tokio::test]
async fn form_body_fields_are_urlencoded_whichever_setter_names_them() {
    let server = Server::always(Reply::status(204)).await;
    let c = client(&server);
    call(&c, &POST_FORM, |r| {
        // A generic caller's `body_field` lands in the form too.
        r.form_field("name", &"a&b=c d")
            .body_field("tags", &["x", "y/z"]);
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].body, b"name=a%26b%3Dc+d&tags=x&tags=y%2Fz");
    assert_eq!(
        reqs[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn token_is_sent_only_as_the_cookie() {
    let server = Server::always(Reply::json(200, "{}")).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok-123")
        .build()
        .unwrap();
    call(&c, &GET_VM, |r| {
        // A caller header cannot add a second mechanism.
        r.path_param("id", &"vm1")
            .header("Authorization", &"Bearer other");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("cookie"), Some("authenticationToken=tok-123"));
    assert!(req.header("authorization").is_none());
    assert_eq!(req.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("xo-sdk/"));
}

#[tokio::test]
async fn basic_credentials_are_sent_only_as_authorization() {
    let server = Server::always(Reply::json(201, r#"{"token":{"id":"t"}}"#)).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .basic("admin@admin.net", "pa:ss")
        .build()
        .unwrap();
    call(&c, &CREATE_TOKEN, |r| {
        r.path_param("id", &"u1")
            .header("Cookie", &"authenticationToken=sneaky");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let req = &server.requests()[0];
    // base64("admin@admin.net:pa:ss")
    assert_eq!(
        req.header("authorization"),
        Some("Basic YWRtaW5AYWRtaW4ubmV0OnBhOnNz")
    );
    assert!(req.header("cookie").is_none());
}

#[test]
fn token_and_basic_together_are_refused() {
    let err = xo_sdk::Client::builder_for(&API, "http://127.0.0.1:1")
        .token("t")
        .basic("u", "p")
        .build()
        .unwrap_err();
    assert!(matches!(err, xo_sdk::Error::Config(_)), "{err}");
    let err = xo_sdk::Client::builder_for(&API, "http://127.0.0.1:1")
        .basic("u", "p")
        .token("t")
        .build()
        .unwrap_err();
    assert!(matches!(err, xo_sdk::Error::Config(_)), "{err}");
}

#[tokio::test]
async fn base_url_with_or_without_the_api_path() {
    let server = Server::always(Reply::json(200, "{}")).await;
    for base in [
        server.url(),
        format!("{}/", server.url()),
        format!("{}/rest/v0", server.url()),
        format!("{}/rest/v0/", server.url()),
    ] {
        let c = xo_sdk::Client::builder_for(&API, &base)
            .token("t")
            .build()
            .unwrap();
        assert_eq!(c.base_url().path(), "/rest/v0");
        call(&c, &GET_VM, |r| {
            r.path_param("id", &"vm1");
        })
        .send_json::<Value>()
        .await
        .unwrap();
    }
    for r in server.requests() {
        assert_eq!(r.target, "/rest/v0/vms/vm1");
    }
}

#[tokio::test]
async fn redirect_307_is_followed_keeping_method_body_and_cookie() {
    let server = Server::start(|req, _| {
        if req.path() == "/rest/v0/users/me/authentication_tokens" {
            Reply::status(307).with_header("Location", "/rest/v0/users/u-42/authentication_tokens")
        } else {
            Reply::json(201, r#"{"token":{"id":"new"}}"#)
        }
    })
    .await;
    let v: Value = call(&client(&server), &CREATE_TOKEN, |r| {
        r.path_param("id", &"me").body_field("description", &"ci");
    })
    .send_json()
    .await
    .unwrap();
    assert_eq!(v, json!({"token": {"id": "new"}}));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].request_line,
        "POST /rest/v0/users/u-42/authentication_tokens HTTP/1.1"
    );
    assert_eq!(reqs[1].body, br#"{"description":"ci"}"#);
    assert_eq!(reqs[1].body, reqs[0].body);
    assert_eq!(reqs[1].header("cookie"), Some("authenticationToken=tok"));
    assert_eq!(reqs[1].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn redirect_308_to_an_absolute_same_origin_url_is_followed() {
    // Same origin, absolute form.
    let server3 = Server::start(|req, _| {
        if req.path().ends_with("/old") {
            let host = req.header("host").unwrap().to_owned();
            Reply::status(308).with_header("Location", &format!("http://{host}/rest/v0/vms/new"))
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    call(&client(&server3), &DELETE_VM, |r| {
        r.path_param("id", &"old");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let reqs = server3.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].request_line, "DELETE /rest/v0/vms/new HTTP/1.1");
    assert_eq!(reqs[1].header("cookie"), Some("authenticationToken=tok"));
}

#[tokio::test]
async fn cross_origin_redirect_is_not_followed_and_leaks_no_credentials() {
    let other = Server::always(Reply::json(200, "{}")).await;
    let other_url = format!("{}/steal", other.url());
    let server = Server::always(Reply::status(307).with_header("Location", &other_url)).await;
    let err = call(&client(&server), &START_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            xo_sdk::Error::Redirect {
                status: 307,
                reason: "cross-origin target",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
    assert_eq!(other.count(), 0);
    assert!(!err.to_string().contains("steal"));
}

#[tokio::test]
async fn redirect_loops_stop_at_the_hop_limit() {
    let server =
        Server::always(Reply::status(307).with_header("Location", "/rest/v0/vms/vm1")).await;
    let err = call(&client(&server), &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            xo_sdk::Error::Redirect {
                reason: "too many redirects",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 6);
}

#[tokio::test]
async fn redirect_with_a_streaming_body_is_not_followed() {
    let server = Server::start(|req, _| {
        if req.path().starts_with("/rest/v0/pools/me") {
            Reply::status(307).with_header("Location", "/rest/v0/pools/p1/vms")
        } else {
            Reply::json(201, r#"{"id":"vm"}"#)
        }
    })
    .await;
    let items: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1; 8])];
    let err = call(&client(&server), &IMPORT_VM, |r| {
        r.path_param("id", &"me")
            .raw_body(Body::from_stream(futures::stream::iter(items), None));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(matches!(err, xo_sdk::Error::Redirect { .. }), "{err:?}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn errors_keep_status_code_message_data_and_read_as_one_line() {
    let server = Server::script(vec![
        Reply::json(
            422,
            r#"{"error":{"name_label":"must be string"},"data":{"issues":[1]}}"#,
        ),
        Reply::json(500, "{\"error\":\"XAPI\\nline two\",\"info\":\"This is a XenServer/XCP-ng error, not an XO error\"}"),
        Reply::Respond {
            status: 502,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<html>bad gateway</html>".to_vec(),
        },
        Reply::json(200, &"x".repeat(10_000)),
    ])
    .await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("t")
        .retry(xo_sdk::RetryConfig::disabled())
        .build()
        .unwrap();
    let get = || {
        call(&c, &GET_VM, |r| {
            r.path_param("id", &"vm1");
        })
        .send_json::<Value>()
    };
    let e = get().await.unwrap_err();
    assert!(e.is_invalid_input());
    let api = e.as_api().unwrap();
    assert_eq!(api.message, Some(json!({"name_label": "must be string"})));
    assert_eq!(api.data, Some(json!({"issues": [1]})));
    assert_eq!(api.server_code, None, "no `data.code`");
    assert_eq!(
        e.to_string(),
        r#"get_vm (GET /vms/{id}): HTTP 422 invalid_input: {"name_label":"must be string"}"#
    );

    let e = get().await.unwrap_err();
    assert_eq!(e.code(), Some("internal"));
    assert_eq!(e.as_api().unwrap().server_code, None);
    assert_eq!(e.as_api().unwrap().data, None);
    assert_eq!(
        e.to_string(),
        "get_vm (GET /vms/{id}): HTTP 500 internal: XAPI line two"
    );
    assert_eq!(e.tool(), Some("get_vm"));

    let e = get().await.unwrap_err();
    assert_eq!(
        e.as_api().unwrap().message_text(),
        "<html>bad gateway</html>"
    );

    let e = get().await.unwrap_err();
    match &e {
        xo_sdk::Error::Decode { excerpt, .. } => assert!(excerpt.chars().count() <= 513),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().len() < 1000);
}

#[tokio::test]
async fn xo_data_code_is_the_server_code() {
    let server = Server::script(vec![
        // A XAPI error relayed by XO.
        Reply::json(
            500,
            r#"{"error":"VM_BAD_POWER_STATE(OpaqueRef:1, halted, running)","data":{"code":"VM_BAD_POWER_STATE","params":["OpaqueRef:1","halted","running"]},"info":"This is a XenServer/XCP-ng error, not an XO error"}"#,
        ),
        // A number is kept as text.
        Reply::json(409, r#"{"error":"conflict","data":{"code":42}}"#),
        // Anything else at `data.code` is no code.
        Reply::json(400, r#"{"error":"odd","data":{"code":{"nested":1}}}"#),
        // A top-level `code` is not XO's.
        Reply::json(404, r#"{"error":"gone","code":"TOP"}"#),
        // Not JSON.
        Reply::Respond {
            status: 400,
            headers: Vec::new(),
            body: b"data.code".to_vec(),
        },
    ])
    .await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("t")
        .retry(xo_sdk::RetryConfig::disabled())
        .build()
        .unwrap();
    let get = || {
        call(&c, &GET_VM, |r| {
            r.path_param("id", &"vm1");
        })
        .send_json::<Value>()
    };

    let e = get().await.unwrap_err();
    let api = e.as_api().unwrap();
    assert_eq!(api.status, 500);
    assert_eq!(api.code, "internal", "the semantic code is the status's");
    assert_eq!(api.server_code.as_deref(), Some("VM_BAD_POWER_STATE"));
    assert_eq!(
        api.message_text(),
        "VM_BAD_POWER_STATE(OpaqueRef:1, halted, running)"
    );
    // `data` is the body's top-level `data`, whole.
    assert_eq!(
        api.data,
        Some(json!({"code": "VM_BAD_POWER_STATE", "params": ["OpaqueRef:1", "halted", "running"]}))
    );

    let e = get().await.unwrap_err();
    assert_eq!(e.as_api().unwrap().server_code.as_deref(), Some("42"));
    let e = get().await.unwrap_err();
    assert_eq!(e.as_api().unwrap().server_code, None);
    assert_eq!(
        e.as_api().unwrap().data,
        Some(json!({"code": {"nested": 1}}))
    );
    let e = get().await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.as_api().unwrap().server_code, None);
    assert_eq!(e.as_api().unwrap().data, None);
    let e = get().await.unwrap_err();
    assert_eq!(e.as_api().unwrap().server_code, None);
    assert_eq!(server.count(), 5);
}

#[tokio::test]
async fn caller_supplied_reqwest_client_is_used_and_conflicts_are_refused() {
    let server = Server::always(Reply::json(200, "{}")).await;
    let http = xo_sdk::runtime::http_client_builder()
        .unwrap()
        .user_agent("mine/1")
        .build()
        .unwrap();
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("t")
        .http_client(http.clone())
        .build()
        .unwrap();
    call(&c, &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    assert_eq!(server.requests()[0].header("user-agent"), Some("mine/1"));
    let err = xo_sdk::Client::builder_for(&API, server.url())
        .http_client(http)
        .read_timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("read_timeout"), "{err}");
}

#[test]
fn from_env_lookup_reads_the_documented_variables() {
    use xo_sdk::runtime::{ClientBuilder, ENV_CA_CERT, ENV_INSECURE, ENV_TOKEN, ENV_URL};
    let env = |pairs: &[(&str, &str)]| {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    };
    let ok = ClientBuilder::from_env_lookup(
        &API,
        env(&[(ENV_URL, "https://xo.example.com"), (ENV_TOKEN, "t")]),
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(ok.base_url().as_str(), "https://xo.example.com/rest/v0");

    let err = ClientBuilder::from_env_lookup(&API, env(&[(ENV_TOKEN, "t")])).unwrap_err();
    assert!(err.to_string().contains("XO_URL"), "{err}");
    let err = ClientBuilder::from_env_lookup(&API, env(&[(ENV_URL, "https://x")])).unwrap_err();
    assert!(err.to_string().contains("XO_TOKEN"), "{err}");
    let err = ClientBuilder::from_env_lookup(
        &API,
        env(&[
            (ENV_URL, "https://x"),
            (ENV_TOKEN, "t"),
            (ENV_INSECURE, "maybe"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("XO_INSECURE"), "{err}");
    let err = ClientBuilder::from_env_lookup(
        &API,
        env(&[
            (ENV_URL, "https://x"),
            (ENV_TOKEN, "t"),
            (ENV_CA_CERT, "/nonexistent/ca.pem"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("XO_CA_CERT"), "{err}");
    ClientBuilder::from_env_lookup(
        &API,
        env(&[
            (ENV_URL, "https://x"),
            (ENV_TOKEN, "t"),
            (ENV_INSECURE, "1"),
        ]),
    )
    .unwrap()
    .build()
    .unwrap();
}

#[test]
fn client_is_cheap_to_clone_and_thread_safe() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    fn send<T: Send + 'static>() {}
    send_sync::<xo_sdk::Client>();
    send_sync::<xo_sdk::CallOptions>();
    send_sync::<xo_sdk::RetryConfig>();
    send::<xo_sdk::runtime::Request>();
    send::<xo_sdk::Error>();
    send::<xo_sdk::ByteStream>();
    // One pointer: cloning is an Arc increment.
    assert_eq!(
        std::mem::size_of::<xo_sdk::Client>(),
        std::mem::size_of::<usize>()
    );
    // Futures of calls can be spawned on a multi-threaded runtime.
    fn send_future<F: std::future::Future + Send>(_: &F) {}
    let c = xo_sdk::Client::builder_for(&API, "http://127.0.0.1:1")
        .build()
        .unwrap();
    let fut = c.request(&GET_VM).send_json::<Value>();
    send_future(&fut);
}

#[tokio::test]
async fn query_token_api_puts_the_token_in_the_query_and_keeps_it_on_redirect() {
    let server = Server::start(|req, _| {
        if req.path() == "/api/things/me" {
            Reply::status(307).with_header("Location", "/api/things/42?x=1")
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let c = xo_sdk::Client::builder_for(&QUERY_TOKEN_API, server.url())
        .token("q t&k")
        .build()
        .unwrap();
    call(&c, &QT_GET, |r| {
        r.path_param("id", &"me");
    })
    .send_json::<Value>()
    .await
    .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].target, "/api/things/me?token=q%20t%26k");
    assert_eq!(reqs[1].target, "/api/things/42?x=1&token=q%20t%26k");
    assert!(reqs[0].header("cookie").is_none());
}

#[tokio::test]
async fn send_response_keeps_status_and_headers_and_is_retried() {
    let server = Server::script(vec![
        Reply::status(503).with_header("Retry-After", "0"),
        Reply::json(202, r#"{"taskId":"t-1"}"#).with_header("Location", "/rest/v0/tasks/t-1"),
    ])
    .await;
    let resp = call(&client(&server), &START_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_response()
    .await
    .unwrap();
    assert_eq!(resp.status, 202);
    assert_eq!(resp.header("location"), Some("/rest/v0/tasks/t-1"));
    assert_eq!(resp.json::<Value>().unwrap(), json!({"taskId": "t-1"}));
    assert_eq!(server.count(), 2);
}
