//! The retry table of `RetryConfig` (and `docs/retries.md`), one test per
//! row, over real HTTP on loopback: each counts the requests the server
//! received. The policy is XO's (`retry_on` 429, 502, 503, 504; 3 retries)
//! with test-friendly delays, so "retried" means 4 requests against a
//! server that keeps failing, "not retried" means 1.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;
use xo_sdk::runtime::{Body, CallOptions, OperationSpec, RetryConfig};

/// Requests for a call that is retried until the budget is spent.
const RETRIED: usize = 4;
/// Requests for a call that is not retried.
const ONCE: usize = 1;

/// Send one call of `spec` with `opts` to a server that always answers
/// `reply`; return how many requests the server received.
async fn count(spec: &'static OperationSpec, reply: Reply, opts: CallOptions) -> usize {
    let server = Server::always(reply).await;
    let result = send(&client(&server), spec, opts).await;
    assert!(result.is_err(), "the server always fails: {result:?}");
    server.count()
}

async fn send(
    client: &xo_sdk::Client,
    spec: &'static OperationSpec,
    opts: CallOptions,
) -> xo_sdk::Result<Value> {
    call(client, spec, |r| {
        if spec.path.contains("{id}") {
            r.path_param("id", &"vm1");
        }
        if matches!(spec.request_body, xo_sdk::runtime::RequestBodyKind::Json) {
            r.body_field("force", &true);
        }
        if matches!(
            spec.request_body,
            xo_sdk::runtime::RequestBodyKind::Raw { .. }
        ) {
            r.raw_body(Body::from(vec![1u8; 16]));
        }
        r.options(&opts);
    })
    .send_json()
    .await
}

fn none() -> CallOptions {
    CallOptions::new()
}

// --- Idempotent methods: retried on every `retry_on` status and on a
// broken connection.

#[tokio::test]
async fn get_on_503_is_retried() {
    assert_eq!(count(&GET_VM, Reply::status(503), none()).await, RETRIED);
}

#[tokio::test]
async fn get_on_429_502_504_is_retried() {
    for status in [429, 502, 504] {
        assert_eq!(
            count(&GET_VM, Reply::status(status), none()).await,
            RETRIED,
            "{status}"
        );
    }
}

#[tokio::test]
async fn get_on_connection_reset_is_retried() {
    assert_eq!(count(&GET_VM, Reply::Reset, none()).await, RETRIED);
}

#[tokio::test]
async fn put_and_delete_on_503_are_retried() {
    assert_eq!(
        count(&IMPORT_VDI, Reply::status(503), none()).await,
        RETRIED
    );
    assert_eq!(count(&DELETE_VM, Reply::status(503), none()).await, RETRIED);
}

// --- POST and PATCH: only with evidence that the request was not
// processed, or the caller's consent.

#[tokio::test]
async fn post_on_503_is_sent_once_by_default() {
    assert_eq!(count(&START_VM, Reply::status(503), none()).await, ONCE);
}

#[tokio::test]
async fn patch_on_503_is_sent_once_by_default() {
    assert_eq!(count(&UPDATE_VM, Reply::status(503), none()).await, ONCE);
}

#[tokio::test]
async fn post_on_503_with_retry_after_is_retried() {
    let reply = Reply::status(503).with_header("Retry-After", "0");
    assert_eq!(count(&START_VM, reply, none()).await, RETRIED);
}

#[tokio::test]
async fn post_on_503_with_an_unreadable_retry_after_is_sent_once() {
    let reply = Reply::status(503).with_header("Retry-After", "soon");
    assert_eq!(count(&START_VM, reply, none()).await, ONCE);
}

#[tokio::test]
async fn post_on_503_is_retried_when_the_call_opts_in() {
    let opts = none().retry(RetryConfig::new().retry_unprocessed_503(true));
    assert_eq!(count(&START_VM, Reply::status(503), opts).await, RETRIED);
}

#[tokio::test]
async fn post_on_503_is_retried_when_the_client_opts_in() {
    let server = Server::always(Reply::status(503)).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .retry(RetryConfig::new().retry_unprocessed_503(true))
        .build()
        .unwrap();
    send(&c, &START_VM, none()).await.unwrap_err();
    assert_eq!(server.count(), RETRIED);
}

#[tokio::test]
async fn post_on_503_then_success_with_opt_in_sends_the_same_body() {
    let server = Server::script(vec![Reply::status(503), Reply::json(202, "{}")]).await;
    let opts = none().retry(RetryConfig::new().retry_unprocessed_503(true));
    send(&client(&server), &START_VM, opts)
        .await
        .expect("the retry succeeds");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[tokio::test]
async fn post_on_429_is_retried() {
    assert_eq!(count(&START_VM, Reply::status(429), none()).await, RETRIED);
}

#[tokio::test]
async fn post_on_502_504_500_is_sent_once_even_with_opt_in() {
    let opt_in = || none().retry(RetryConfig::new().retry_unprocessed_503(true));
    for status in [500, 502, 504] {
        assert_eq!(
            count(&START_VM, Reply::status(status), none()).await,
            ONCE,
            "{status}"
        );
        let reply = Reply::status(status).with_header("Retry-After", "0");
        assert_eq!(count(&START_VM, reply, opt_in()).await, ONCE, "{status}");
    }
}

#[tokio::test]
async fn post_on_connection_reset_is_sent_once() {
    assert_eq!(count(&START_VM, Reply::Reset, none()).await, ONCE);
    let opts = none().retry(RetryConfig::new().retry_unprocessed_503(true));
    assert_eq!(count(&START_VM, Reply::Reset, opts).await, ONCE);
}

#[tokio::test]
async fn post_whose_connection_cannot_be_opened_is_retried() {
    // Nothing listens on the port at first; a server starts there after
    // 150 ms, while the call is still retrying (up to 20 retries of at
    // most 50 ms each).
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let c = xo_sdk::Client::builder_for(&API, format!("http://{addr}"))
        .token("tok")
        .retry(
            RetryConfig::new()
                .max_retries(40)
                .initial_delay(Duration::from_millis(50))
                .max_delay(Duration::from_millis(50)),
        )
        .build()
        .unwrap();
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let (sock, _) = listener.accept().await.unwrap();
        let mut reader = tokio::io::BufReader::new(sock);
        let req = read_request(&mut reader).await.expect("a request");
        use tokio::io::AsyncWriteExt;
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}")
            .await
            .unwrap();
        req
    });
    let v = send(&c, &START_VM, none())
        .await
        .expect("sent once it can be");
    assert_eq!(v, serde_json::json!({}));
    let req = late.await.unwrap();
    assert_eq!(req.method, "POST");
}

#[tokio::test]
async fn post_with_an_idempotency_key_is_retried_like_get() {
    for status in [502, 503, 504] {
        assert_eq!(
            count(&CREATE_IDEMPOTENT, Reply::status(status), none()).await,
            RETRIED,
            "{status}"
        );
    }
    assert_eq!(
        count(&CREATE_IDEMPOTENT, Reply::Reset, none()).await,
        RETRIED
    );
}

#[tokio::test]
async fn post_marked_retry_unsafe_is_retried_like_get() {
    for status in [502, 503] {
        assert_eq!(
            count(&RETRY_UNSAFE_POST, Reply::status(status), none()).await,
            RETRIED,
            "{status}"
        );
    }
}

// --- Never retried, whatever the method.

#[tokio::test]
async fn statuses_outside_retry_on_are_final() {
    for status in [400, 401, 403, 404, 409, 422, 500] {
        assert_eq!(
            count(&GET_VM, Reply::status(status), none()).await,
            ONCE,
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_read_idle_timeout_is_not_retried() {
    let server = Server::always(Reply::Hang).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = send(&c, &GET_VM, none()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.count(), ONCE);
}

#[tokio::test]
async fn a_streaming_body_is_never_sent_twice() {
    let server = Server::always(Reply::status(503)).await;
    let items: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1; 8])];
    let err = call(&client(&server), &IMPORT_VDI, |r| {
        r.path_param("id", &"vdi1")
            .raw_body(Body::from_stream(futures::stream::iter(items), Some(8)));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.count(), ONCE);
}

#[tokio::test]
async fn a_retry_after_beyond_max_retry_after_is_not_waited_for() {
    let reply = Reply::status(503).with_header("Retry-After", "3600");
    assert_eq!(count(&GET_VM, reply.clone(), none()).await, ONCE);
    assert_eq!(count(&START_VM, reply, none()).await, ONCE);
}

#[tokio::test]
async fn a_too_large_or_undecodable_answer_is_not_retried() {
    let big = Reply::json(200, &format!("\"{}\"", "a".repeat(4096)));
    assert_eq!(
        count(&GET_VM, big, none().max_answer_size(1024)).await,
        ONCE
    );
    assert_eq!(
        count(&GET_VM, Reply::json(200, "not json"), none()).await,
        ONCE
    );
}

#[tokio::test]
async fn retries_disabled_send_once() {
    let opts = || none().retry(RetryConfig::disabled());
    assert_eq!(count(&GET_VM, Reply::status(503), opts()).await, ONCE);
    let reply = Reply::status(503).with_header("Retry-After", "0");
    assert_eq!(count(&START_VM, reply, opts()).await, ONCE);
}
