//! Hostile and huge answers over real HTTP on loopback: the answer size cap
//! (declared, chunked and lying lengths, client and per-call settings) and
//! bounded error texts (decode, API, NDJSON). Memory is measured with the
//! process's peak RSS (`VmHWM`), so the tests that move hundreds of MiB run
//! one at a time.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use xo_sdk::Error;
use xo_sdk::runtime::{CallOptions, DEFAULT_MAX_ANSWER_SIZE};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// Longest acceptable `Display` of an error caused by an answer.
const MAX_DISPLAY: usize = 2048;

/// Tests that measure or use a lot of memory take this lock: the peak RSS
/// is per process.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How [`Hostile`] frames its body.
#[derive(Clone, Copy)]
enum Framing {
    /// `Content-Length: declared`, then the body (up to `total` bytes).
    Declared { declared: u64 },
    /// Chunked transfer encoding, no length.
    Chunked,
}

/// A server that answers every request with a 200 and a body of `total`
/// bytes (`[` then `"xxx…",` repeated), written from one 64 KiB buffer:
/// it never holds the body, and counts what it managed to write before
/// the client hung up.
struct Hostile {
    addr: SocketAddr,
    written: Arc<AtomicU64>,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn start(framing: Framing, total: u64) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let written = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (w, r) = (written.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(sock, framing, total, w.clone(), r.clone()));
            }
        });
        Hostile {
            addr,
            written,
            requests,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut sock: tokio::net::TcpStream,
    framing: Framing,
    total: u64,
    written: Arc<AtomicU64>,
    requests: Arc<AtomicUsize>,
) {
    // The request head (these requests have no body).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let answer_head = match framing {
        Framing::Declared { declared } => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
        ),
        Framing::Chunked => "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             transfer-encoding: chunked\r\n\r\n"
            .to_owned(),
    };
    if sock.write_all(answer_head.as_bytes()).await.is_err() {
        return;
    }
    let mut block = vec![b'x'; 64 * 1024];
    block[0] = b'"';
    let n = block.len();
    block[n - 2] = b'"';
    block[n - 1] = b',';
    let mut sent = 0u64;
    let mut first = true;
    while sent < total {
        let len = (total - sent).min(block.len() as u64) as usize;
        let mut data = block[..len].to_vec();
        if first {
            data[0] = b'[';
            first = false;
        }
        let ok = match framing {
            Framing::Declared { .. } => sock.write_all(&data).await.is_ok(),
            Framing::Chunked => {
                let frame = format!("{len:x}\r\n");
                sock.write_all(frame.as_bytes()).await.is_ok()
                    && sock.write_all(&data).await.is_ok()
                    && sock.write_all(b"\r\n").await.is_ok()
            }
        };
        if !ok {
            return;
        }
        sent += len as u64;
        written.fetch_add(len as u64, Ordering::SeqCst);
    }
    if matches!(framing, Framing::Chunked) {
        let _ = sock.write_all(b"0\r\n\r\n").await;
    }
    let _ = sock.flush().await;
}

fn client_for(url: &str) -> xo_sdk::Client {
    xo_sdk::Client::builder_for(&API, url)
        .token("tok")
        .build()
        .unwrap()
}

async fn get_vm_with(client: &xo_sdk::Client, opts: CallOptions) -> xo_sdk::Result<Value> {
    call(client, &GET_VM, |r| {
        r.path_param("id", &"vm1").options(&opts);
    })
    .send_json()
    .await
}

/// Peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Current resident memory of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Reset the peak to the current RSS (Linux: `clear_refs` 5); returns the
/// baseline to measure growth from.
fn reset_peak() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    rss()
}

fn assert_too_large(err: &Error, limit: u64, declared: Option<u64>) {
    match err {
        Error::AnswerTooLarge {
            limit: l,
            declared: d,
            ..
        } => {
            assert_eq!(*l, limit, "{err}");
            assert_eq!(*d, declared, "{err}");
        }
        other => panic!("expected AnswerTooLarge, got {other:?}"),
    }
    assert!(err.is_too_large());
    let text = err.to_string();
    assert!(text.len() <= MAX_DISPLAY, "{} bytes", text.len());
    assert!(text.contains(&limit.to_string()), "{text}");
    assert!(text.contains("stream()"), "{text}");
    assert!(text.contains("max_answer_size"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_2_gib_answer_is_refused_from_its_content_length() {
    let _heavy = HEAVY.lock().await;
    let server = Hostile::start(Framing::Declared { declared: 2 * GIB }, 2 * GIB).await;
    let base = reset_peak();
    let err = get_vm_with(&client_for(&server.url()), CallOptions::new())
        .await
        .unwrap_err();
    assert_too_large(&err, DEFAULT_MAX_ANSWER_SIZE, Some(2 * GIB));
    let grown = peak_rss().saturating_sub(base);
    // Nothing of the body is read: only what the socket buffers took.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let written = server.written();
    eprintln!(
        "declared 2 GiB: peak RSS grew {} KiB, server wrote {} KiB, message {} bytes",
        grown >> 10,
        written >> 10,
        err.to_string().len()
    );
    assert!(written < 64 * MIB, "server wrote {written} bytes");
    assert!(grown < 64 * MIB, "peak RSS grew {grown} bytes");
    assert_eq!(server.requests(), 1, "a too large answer is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_2_gib_answer_stops_at_the_default_cap_within_memory() {
    let _heavy = HEAVY.lock().await;
    let server = Hostile::start(Framing::Chunked, 2 * GIB).await;
    let base = reset_peak();
    let err = get_vm_with(&client_for(&server.url()), CallOptions::new())
        .await
        .unwrap_err();
    let grown = peak_rss().saturating_sub(base);
    assert_too_large(&err, DEFAULT_MAX_ANSWER_SIZE, None);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let written = server.written();
    eprintln!(
        "chunked 2 GiB, cap {} MiB: peak RSS grew {} MiB, server wrote {} MiB, message {} bytes",
        DEFAULT_MAX_ANSWER_SIZE >> 20,
        grown >> 20,
        written >> 20,
        err.to_string().len()
    );
    assert!(
        grown <= DEFAULT_MAX_ANSWER_SIZE + 64 * MIB,
        "peak RSS grew {} MiB",
        grown >> 20
    );
    assert!(
        written <= DEFAULT_MAX_ANSWER_SIZE + 64 * MIB,
        "server wrote {} MiB",
        written >> 20
    );
    assert_eq!(server.requests(), 1, "a too large answer is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_cap_stops_a_chunked_2_gib_answer_early() {
    let _heavy = HEAVY.lock().await;
    let server = Hostile::start(Framing::Chunked, 2 * GIB).await;
    let base = reset_peak();
    let err = get_vm_with(
        &client_for(&server.url()),
        CallOptions::new().max_answer_size(8 * MIB),
    )
    .await
    .unwrap_err();
    let grown = peak_rss().saturating_sub(base);
    assert_too_large(&err, 8 * MIB, None);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let written = server.written();
    eprintln!(
        "chunked 2 GiB, cap 8 MiB: peak RSS grew {} MiB, server wrote {} MiB, message {} bytes: {err}",
        grown >> 20,
        written >> 20,
        err.to_string().len()
    );
    assert!(grown <= 8 * MIB + 64 * MIB, "peak RSS grew {grown} bytes");
    assert!(
        written <= 8 * MIB + 64 * MIB,
        "server wrote {written} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_content_length_cannot_pass_the_cap() {
    // Announces 1 MiB (under the cap), sends 2 GiB: hyper stops at the
    // announced length, so the answer is cut, never larger than announced.
    let _heavy = HEAVY.lock().await;
    let server = Hostile::start(Framing::Declared { declared: MIB }, 2 * GIB).await;
    let err = get_vm_with(
        &client_for(&server.url()),
        CallOptions::new().max_answer_size(4 * MIB),
    )
    .await
    .unwrap_err();
    // The first MiB is not valid JSON on its own.
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().len() <= MAX_DISPLAY);
}

#[tokio::test]
async fn client_cap_applies_and_a_call_can_raise_it() {
    let body = format!("[{}]", "1,".repeat(2000) + "1");
    let server = Server::always(Reply::json(200, &body)).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .max_answer_size(1024)
        .build()
        .unwrap();
    let err = get_vm_with(&c, CallOptions::new()).await.unwrap_err();
    assert_too_large(&err, 1024, Some(body.len() as u64));
    let v = get_vm_with(&c, CallOptions::new().max_answer_size(64 * 1024))
        .await
        .expect("the call's cap wins");
    assert_eq!(v.as_array().map(Vec::len), Some(2001));
    // A too large answer is final: 1 + 1 requests.
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn an_answer_of_exactly_the_cap_is_read() {
    let body = "\"".to_owned() + &"a".repeat(998) + "\"";
    let server = Server::always(Reply::json(200, &body)).await;
    let c = client(&server);
    let v = get_vm_with(&c, CallOptions::new().max_answer_size(1000))
        .await
        .unwrap();
    assert_eq!(v.as_str().map(str::len), Some(998));
    let err = get_vm_with(&c, CallOptions::new().max_answer_size(999))
        .await
        .unwrap_err();
    assert_too_large(&err, 999, Some(1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collected_text_of_a_stream_is_capped_too() {
    // What `markdown()` does: send_stream().text().
    let _heavy = HEAVY.lock().await;
    let server = Hostile::start(Framing::Chunked, 2 * GIB).await;
    let stream = call(&client_for(&server.url()), &EXPORT_VM, |r| {
        r.path_param("id", &"vm1")
            .options(&CallOptions::new().max_answer_size(4 * MIB));
    })
    .send_stream()
    .await
    .expect("head");
    let err = stream.text().await.unwrap_err();
    assert_too_large(&err, 4 * MIB, None);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(server.written() <= 4 * MIB + 64 * MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_has_no_cap() {
    let server = Hostile::start(Framing::Chunked, 64 * MIB).await;
    let mut stream = call(&client_for(&server.url()), &EXPORT_VM, |r| {
        r.path_param("id", &"vm1")
            .options(&CallOptions::new().max_answer_size(MIB));
    })
    .send_stream()
    .await
    .expect("head");
    let mut got = 0u64;
    while let Some(chunk) = stream.next().await {
        got += chunk.expect("chunk").len() as u64;
    }
    assert_eq!(got, 64 * MIB);
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct TypedVm {
    id: String,
    name_label: String,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Numbered {
    name_label: u64,
}

#[tokio::test]
async fn a_16_mib_name_label_needs_a_raised_cap_and_then_decodes() {
    let _heavy = HEAVY.lock().await;
    let name = "n".repeat(16 << 20);
    let body = format!(r#"{{"id":"vm1","name_label":"{name}"}}"#);
    let server = Server::always(Reply::json(200, &body)).await;
    let c = xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .max_answer_size(8 * MIB)
        .build()
        .unwrap();
    let typed = |opts: CallOptions| {
        call(&c, &GET_VM, move |r| {
            r.path_param("id", &"vm1").options(&opts);
        })
        .send_json::<TypedVm>()
    };
    let err = typed(CallOptions::new()).await.unwrap_err();
    assert_too_large(&err, 8 * MIB, Some(body.len() as u64));
    let vm = typed(CallOptions::new().max_answer_size(32 * MIB))
        .await
        .expect("fits under the raised cap");
    assert_eq!(vm.name_label.len(), 16 << 20);
}

#[tokio::test]
async fn a_decode_failure_on_a_16_mib_string_has_a_bounded_text() {
    let _heavy = HEAVY.lock().await;
    let name = "n".repeat(16 << 20);
    let body = format!(r#"{{"name_label":"{name}"}}"#);
    let server = Server::always(Reply::json(200, &body)).await;
    let err = call(&client(&server), &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Numbered>()
    .await
    .unwrap_err();
    let Error::Decode {
        reason, excerpt, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(reason.starts_with("invalid type: string"), "{reason:.200}");
    assert!(reason.len() <= 1024 + 3, "reason is {} bytes", reason.len());
    assert!(
        excerpt.len() <= 512 + 3,
        "excerpt is {} bytes",
        excerpt.len()
    );
    let text = err.to_string();
    let debug = format!("{err:?}");
    eprintln!(
        "decode failure on a 16 MiB string: Display {} bytes, Debug {} bytes",
        text.len(),
        debug.len()
    );
    assert!(text.len() <= MAX_DISPLAY, "Display is {} bytes", text.len());
    assert!(
        debug.len() <= 2 * MAX_DISPLAY,
        "Debug is {} bytes",
        debug.len()
    );
}

#[tokio::test]
async fn a_body_of_control_characters_gives_a_bounded_display() {
    // Each control character is escaped to six characters in the excerpt.
    let server = Server::always(Reply::Respond {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: vec![1u8; 100_000],
    })
    .await;
    let err = call(&client(&server), &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.len() <= MAX_DISPLAY, "Display is {} bytes", text.len());
}

#[tokio::test]
async fn a_huge_api_error_message_is_bounded() {
    let message = "e".repeat(10 << 20);
    let body = format!(r#"{{"error":"{message}","data":{{"code":"X"}}}}"#);
    let server = Server::always(Reply::json(500, &body)).await;
    let err = call(&client(&server), &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(api.status, 500);
    // The body is cut at 64 KiB, so it is not JSON any more: the message
    // is an excerpt of it.
    assert!(api.message_text().len() <= 1024 + 3);
    assert!(err.to_string().len() <= MAX_DISPLAY);
    assert!(format!("{err:?}").len() <= 2 * MAX_DISPLAY);

    // A message under the 64 KiB of an error body, but long.
    let message = "m".repeat(60_000);
    let body = format!(r#"{{"error":"{message}","data":{{"code":"X"}}}}"#);
    let server = Server::always(Reply::json(500, &body)).await;
    let err = call(&client(&server), &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(api.server_code.as_deref(), Some("X"));
    let text = api.message_text();
    assert!(text.len() <= 1024 + 3, "message is {} bytes", text.len());
    assert!(text.ends_with('…'));
    assert!(err.to_string().len() <= MAX_DISPLAY);
}

#[tokio::test]
async fn an_ndjson_decode_failure_has_a_bounded_text() {
    let _heavy = HEAVY.lock().await;
    let big = "s".repeat(4 << 20);
    let body = format!("{{\"name_label\":1}}\n{{\"name_label\":\"{big}\"}}\n");
    let server = Server::always(Reply::Respond {
        status: 200,
        headers: vec![("content-type".into(), "application/x-ndjson".into())],
        body: body.into_bytes(),
    })
    .await;
    let mut items = call(&client(&server), &EXPORT_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_stream()
    .await
    .expect("head")
    .ndjson::<Numbered>();
    assert_eq!(items.next().await.unwrap().unwrap().name_label, 1);
    let err = items.next().await.unwrap().unwrap_err();
    let Error::Decode { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(reason.len() <= 1024 + 3, "reason is {} bytes", reason.len());
    assert!(err.to_string().len() <= MAX_DISPLAY);
}

/// A streamed object whose field holds a huge value of the wrong type:
/// serde's message quotes the value, the SDK's error keeps about 1 KiB of
/// it.
#[tokio::test]
async fn a_streamed_object_with_a_huge_wrong_value_has_a_bounded_error() {
    let huge = "A".repeat(4 << 20);
    let line = format!("{{\"id\":\"v1\",\"VIFs\":\"{huge}\"}}\n");
    let server = Server::always(Reply::Respond {
        status: 200,
        headers: vec![("content-type".into(), "application/x-ndjson".into())],
        body: line.into_bytes(),
    })
    .await;
    let client = client(&server);
    let mut stream = Box::pin(client.vms().list().all_fields().stream());
    let err = stream.next().await.expect("an item").unwrap_err();
    let Error::Decode { reason, .. } = &err else {
        panic!("expected a decode error, got {err:?}");
    };
    assert!(reason.len() <= 1100, "reason of {} bytes", reason.len());
    assert!(
        err.to_string().len() <= 2048,
        "{} bytes",
        err.to_string().len()
    );
    assert!(format!("{err:?}").len() <= 4096);
}
