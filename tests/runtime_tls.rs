//! TLS over loopback: an extra root CA from PEM, rejection of an unknown
//! CA, and the explicit opt-out of verification.

mod support;

use std::sync::{Arc, Mutex};

use serde_json::Value;
use support::*;
use tokio::io::{AsyncWriteExt, BufReader};

const CA_PEM: &[u8] = support::TEST_CA_PEM;

/// An HTTPS server answering `{}` to everything; counts requests.
struct TlsServer {
    port: u16,
    count: Arc<Mutex<usize>>,
    /// TCP connections accepted (handshakes attempted).
    accepts: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tls_server() -> TlsServer {
    let acceptor = support::test_tls_acceptor();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(Mutex::new(0));
    let counter = count.clone();
    let accepts = Arc::new(Mutex::new(0));
    let accepted = accepts.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            *accepted.lock().unwrap() += 1;
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut reader = BufReader::new(tls);
                while read_request(&mut reader).await.is_some() {
                    *counter.lock().unwrap() += 1;
                    let stream = reader.get_mut();
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if stream.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                    let _ = stream.flush().await;
                }
            });
        }
    });
    TlsServer {
        port,
        count,
        accepts,
        task,
    }
}

async fn get(c: &xo_sdk::Client) -> xo_sdk::Result<Value> {
    call(c, &GET_VM, |r| {
        r.path_param("id", &"vm1");
    })
    .send_json()
    .await
}

#[tokio::test]
async fn extra_root_certificate_from_pem_is_trusted() {
    let server = tls_server().await;
    for host in ["127.0.0.1", "localhost"] {
        let c = xo_sdk::Client::builder_for(&API, format!("https://{host}:{}", server.port))
            .token("t")
            .add_root_certificate_pem(CA_PEM)
            .build()
            .unwrap();
        get(&c).await.unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    assert_eq!(*server.count.lock().unwrap(), 2);
}

#[tokio::test]
async fn unknown_certificate_authority_is_rejected() {
    let server = tls_server().await;
    // Default retries (3): a certificate rejection is still not retried.
    let c = xo_sdk::Client::builder_for(&API, format!("https://127.0.0.1:{}", server.port))
        .token("t")
        .build()
        .unwrap();
    let err = get(&c).await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    let text = err.to_string().to_ascii_lowercase();
    assert!(text.contains("certificate"), "{text}");
    assert_eq!(*server.count.lock().unwrap(), 0);
    assert_eq!(
        *server.accepts.lock().unwrap(),
        1,
        "one handshake, no retry"
    );
}

#[tokio::test]
async fn accepting_invalid_certificates_is_an_explicit_opt_in() {
    let server = tls_server().await;
    let c = xo_sdk::Client::builder_for(&API, format!("https://127.0.0.1:{}", server.port))
        .token("t")
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    get(&c).await.unwrap();
    assert_eq!(*server.count.lock().unwrap(), 1);
}

#[tokio::test]
async fn ca_file_from_the_environment_is_trusted() {
    let server = tls_server().await;
    let ca_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/tls/ca.pem");
    let url = format!("https://127.0.0.1:{}", server.port);
    let c = xo_sdk::runtime::ClientBuilder::from_env_lookup(&API, |k| match k {
        "XO_URL" => Some(url.clone()),
        "XO_TOKEN" => Some("t".into()),
        "XO_CA_CERT" => Some(ca_path.into()),
        _ => None,
    })
    .unwrap()
    .build()
    .unwrap();
    get(&c).await.unwrap();
    assert_eq!(*server.count.lock().unwrap(), 1);
}

#[test]
fn invalid_pem_is_a_configuration_error() {
    for pem in [
        &b"not a certificate"[..],
        b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    ] {
        let err = xo_sdk::Client::builder_for(&API, "https://127.0.0.1:1")
            .add_root_certificate_pem(pem)
            .build()
            .unwrap_err();
        assert!(matches!(err, xo_sdk::Error::Config(_)), "{err:?}");
    }
}
