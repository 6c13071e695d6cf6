//! Retries, timeouts and fault injection over real HTTP on loopback. Every
//! scenario asserts how many requests the server actually received.

mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::*;
use xo_sdk::runtime::{Body, CallOptions, RetryConfig};

fn ok_json() -> Reply {
    Reply::json(200, r#"{"id":"vm1"}"#)
}

async fn get_vm(client: &xo_sdk::Client) -> xo_sdk::Result<Value> {
    call(client, &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json()
    .await
}

async fn start_vm(client: &xo_sdk::Client) -> xo_sdk::Result<Value> {
    call(client, &START_VM, |r| {
        r.path_param("id", &"vm1").body_field("force", &true);
    })
    .send_json()
    .await
}

#[tokio::test]
async fn get_answered_503_twice_then_200_succeeds_after_three_requests() {
    let server = Server::script(vec![Reply::status(503), Reply::status(503), ok_json()]).await;
    let v = get_vm(&client(&server))
        .await
        .expect("third attempt succeeds");
    assert_eq!(v, json!({"id": "vm1"}));
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn post_action_answered_502_is_sent_exactly_once() {
    let server = Server::always(Reply::json(502, r#"{"error":"bad gateway"}"#)).await;
    let err = start_vm(&client(&server)).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.is_unavailable());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn patch_answered_504_is_sent_exactly_once() {
    let server = Server::always(Reply::status(504)).await;
    let err = call(&client(&server), &UPDATE_VM, |r| {
        r.path_param("id", &"vm1").body_field("name_label", &"x");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(504));
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn get_answered_502_is_retried_until_the_budget_is_spent() {
    // POLICY.max_retries = 3: one request plus three retries.
    let server = Server::always(Reply::status(502)).await;
    let err = get_vm(&client(&server)).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn get_answered_504_then_200_takes_two_requests() {
    let server = Server::script(vec![Reply::status(504), ok_json()]).await;
    get_vm(&client(&server)).await.expect("retry succeeds");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn delete_answered_502_then_204_takes_two_requests() {
    let server = Server::script(vec![Reply::status(502), Reply::status(204)]).await;
    let v: Value = call(&client(&server), &DELETE_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json()
    .await
    .expect("retry succeeds");
    assert_eq!(v, Value::Null);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn post_answered_503_is_retried_because_it_was_not_processed() {
    // A 503 with Retry-After: the server says it did not take the request
    // (without one, a POST is sent once: tests/retry_table.rs).
    let server = Server::script(vec![
        Reply::status(503).with_header("Retry-After", "0"),
        Reply::json(201, r#"{"id":"s"}"#),
    ])
    .await;
    start_vm(&client(&server)).await.expect("retry succeeds");
    assert_eq!(server.count(), 2);
    let reqs = server.requests();
    assert_eq!(reqs[0].body, reqs[1].body, "the same body is re-sent");
}

#[tokio::test]
async fn post_answered_429_with_retry_after_seconds_is_retried() {
    let server = Server::script(vec![
        Reply::json(429, r#"{"error":"slow down"}"#).with_header("Retry-After", "1"),
        Reply::json(202, r#"{"taskId":"t1"}"#),
    ])
    .await;
    let v = start_vm(&client(&server)).await.expect("retry succeeds");
    assert_eq!(v, json!({"taskId": "t1"}));
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn retry_after_as_http_date_is_honoured() {
    // A date in the past means "retry now".
    let server = Server::script(vec![
        Reply::status(429).with_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ok_json(),
    ])
    .await;
    get_vm(&client(&server)).await.expect("retry succeeds");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_returns_the_error_with_the_pause() {
    let server = Server::always(
        Reply::json(429, r#"{"error":"slow down"}"#).with_header("Retry-After", "3600"),
    )
    .await;
    let err = get_vm(&client(&server)).await.unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(
        err.as_api().and_then(|a| a.retry_after),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn terminal_404_is_not_retried_and_carries_message_and_data() {
    let server = Server::always(Reply::json(
        404,
        r#"{"error":"no such VM vm1","data":{"id":"vm1","type":"VM"}}"#,
    ))
    .await;
    let err = get_vm(&client(&server)).await.unwrap_err();
    assert!(err.is_not_found());
    let api = err.as_api().expect("api error");
    assert_eq!(api.message_text(), "no such VM vm1");
    assert_eq!(api.data, Some(json!({"id": "vm1", "type": "VM"})));
    assert_eq!(api.server_code, None);
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn get_connection_reset_is_retried() {
    let server = Server::script(vec![Reply::Reset, ok_json()]).await;
    get_vm(&client(&server)).await.expect("retry succeeds");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn post_connection_reset_after_sending_is_not_retried() {
    let server = Server::script(vec![Reply::Reset, ok_json()]).await;
    let err = start_vm(&client(&server)).await.unwrap_err();
    assert!(err.is_transport(), "{err}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn stalled_body_ends_in_a_read_idle_timeout_without_retry() {
    let server = Server::always(Reply::Stall {
        status: 200,
        length: 100,
        partial: br#"{"id":"#.to_vec(),
    })
    .await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = get_vm(&c).await.unwrap_err();
    assert!(
        matches!(
            err,
            xo_sdk::Error::Timeout {
                what: "read idle",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn unanswered_request_ends_in_a_read_idle_timeout_without_retry() {
    let server = Server::always(Reply::Hang).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = get_vm(&c).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn per_call_total_timeout() {
    let server = Server::always(Reply::Hang).await;
    let err = call(&client(&server), &GET_VM, |r| {
        r.path_param("id", &"vm1")
            .options(&CallOptions::new().timeout(Duration::from_millis(200)));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(
        matches!(err, xo_sdk::Error::Timeout { what: "total", .. }),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn total_timeout_also_bounds_a_streamed_download() {
    let server = Server::always(Reply::Stall {
        status: 200,
        length: 1_000_000,
        partial: vec![7; 1000],
    })
    .await;
    let mut stream = call(&client(&server), &EXPORT_VM, |r| {
        r.path_param("id", &"vm1")
            .options(&CallOptions::new().timeout(Duration::from_millis(1500)));
    })
    .send_stream()
    .await
    .expect("head arrives in time");
    let mut got = 0;
    let err = loop {
        match stream.next().await {
            Some(Ok(chunk)) => got += chunk.len(),
            Some(Err(e)) => break e,
            None => panic!("stream ended without error"),
        }
    };
    assert_eq!(got, 1000);
    assert!(
        matches!(err, xo_sdk::Error::Timeout { what: "total", .. }),
        "{err:?}"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends after an error"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn stalled_download_stream_hits_the_read_idle_timeout() {
    let server = Server::always(Reply::Stall {
        status: 200,
        length: 1_000_000,
        partial: vec![7; 10],
    })
    .await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let stream = call(&c, &EXPORT_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_stream()
    .await
    .expect("head arrives");
    let err = stream.collect().await.unwrap_err();
    assert!(
        matches!(
            err,
            xo_sdk::Error::Timeout {
                what: "read idle",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
}

fn chunks(n: usize) -> Body {
    let items: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..n).map(|i| Ok(vec![i as u8; 4])).collect();
    Body::from_stream(futures::stream::iter(items), None)
}

#[tokio::test]
async fn streaming_body_is_never_replayed_even_for_put() {
    let server = Server::script(vec![Reply::status(503), Reply::status(204)]).await;
    let err = call(&client(&server), &IMPORT_VDI, |r| {
        r.path_param("id", &"vdi1").raw_body(chunks(3));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.count(), 1);
    let req = &server.requests()[0];
    assert!(req.chunked);
    assert_eq!(req.body.len(), 12);
}

#[tokio::test]
async fn streaming_body_with_known_length_is_sent_with_content_length() {
    let server = Server::always(Reply::status(204)).await;
    let items: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1; 5]), Ok(vec![2; 5])];
    call(&client(&server), &IMPORT_VDI, |r| {
        r.path_param("id", &"vdi1")
            .raw_body(Body::from_stream(futures::stream::iter(items), Some(10)));
    })
    .send_json::<Value>()
    .await
    .expect("upload");
    let req = &server.requests()[0];
    assert!(!req.chunked);
    assert_eq!(req.header("content-length"), Some("10"));
    assert_eq!(req.header("content-type"), Some("application/octet-stream"));
}

#[tokio::test]
async fn in_memory_body_put_is_replayed() {
    let server = Server::script(vec![Reply::status(503), Reply::status(204)]).await;
    call(&client(&server), &IMPORT_VDI, |r| {
        r.path_param("id", &"vdi1")
            .raw_body(Body::from(vec![9u8; 64]));
    })
    .send_json::<Value>()
    .await
    .expect("retry succeeds");
    assert_eq!(server.count(), 2);
    for r in server.requests() {
        assert_eq!(r.body, vec![9u8; 64]);
    }
}

#[tokio::test]
async fn idempotency_key_allows_post_retries_and_is_reused() {
    let server = Server::script(vec![
        Reply::status(502),
        Reply::status(500),
        Reply::status(502),
        Reply::json(201, r#"{"id":"t"}"#),
    ])
    .await;
    // 500 is not in retry_on: the second answer ends the call.
    let c = client(&server);
    let err = call(&c, &CREATE_IDEMPOTENT, |r| {
        r.body_field("name", &"a");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(server.count(), 2);
    // Third and fourth requests: a new call, retried once.
    call(&c, &CREATE_IDEMPOTENT, |r| {
        r.body_field("name", &"a");
    })
    .send_json::<Value>()
    .await
    .expect("retry succeeds");
    assert_eq!(server.count(), 4);
    let keys: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").expect("key sent").to_owned())
        .collect();
    assert_eq!(keys[0], keys[1], "one key per logical call");
    assert_eq!(keys[2], keys[3], "one key per logical call");
    assert_ne!(keys[0], keys[2], "a new call gets a new key");
    assert_eq!(keys[0].len(), 36);
}

#[tokio::test]
async fn caller_supplied_idempotency_key_is_sent() {
    let server = Server::always(Reply::json(201, "{}")).await;
    call(&client(&server), &CREATE_IDEMPOTENT, |r| {
        r.options(&CallOptions::new().idempotency_key("my-key-1"));
    })
    .send_json::<Value>()
    .await
    .unwrap();
    assert_eq!(
        server.requests()[0].header("idempotency-key"),
        Some("my-key-1")
    );
}

#[tokio::test]
async fn retry_unsafe_post_is_retried_on_502() {
    let server = Server::script(vec![Reply::status(502), Reply::json(200, "{}")]).await;
    call(&client(&server), &RETRY_UNSAFE_POST, |_| {})
        .send_json::<Value>()
        .await
        .expect("retry succeeds");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn client_level_retry_disabled_sends_once() {
    let server = Server::always(Reply::status(503)).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    get_vm(&c).await.unwrap_err();
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn per_call_retry_overrides_the_client() {
    let server = Server::always(Reply::status(503)).await;
    let c = client(&server);
    call(&c, &GET_VM, |r| {
        r.path_param("id", &"vm1")
            .options(&CallOptions::new().retry(RetryConfig::disabled()));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert_eq!(server.count(), 1);
    call(&c, &GET_VM, |r| {
        r.path_param("id", &"vm1")
            .options(&CallOptions::new().retry(RetryConfig::new().max_retries(1)));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert_eq!(server.count(), 3);
}
