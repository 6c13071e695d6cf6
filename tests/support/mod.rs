//! A tiny fault-injecting HTTP/1.1 server on loopback, and hand-written API
//! tables, for the runtime tests (and the overhead bench).
//!
//! The server records every request exactly as it arrived (request line,
//! header lines, body) and answers from a script, so a test can assert how
//! many requests reached it and what was on the wire.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use xo_sdk::runtime::{
    ApiSpec, AuthSpec, Backoff, ErrorPolicy, HttpMethod, IdempotencySpec, OperationSpec,
    RequestBodyKind, ResponseKind,
};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The raw request line, without CRLF.
    pub request_line: String,
    pub method: String,
    /// The request target exactly as sent (`/rest/v0/vms/x?y=z`).
    pub target: String,
    /// Header lines as sent, names lowercased, values untouched.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// Whether the body came with chunked transfer encoding.
    pub chunked: bool,
}

impl Recorded {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All header names, in order.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query part of the target, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete answer (Content-Length is added).
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A head announcing `length` body bytes, then `partial` bytes, then
    /// nothing for 20 s (then the connection is closed).
    Stall {
        status: u16,
        length: usize,
        partial: Vec<u8>,
    },
    /// Read the request and never answer (for 20 s).
    Hang,
    /// Read the request, then reset the connection (TCP RST).
    Reset,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An answer without a body.
    pub fn status(status: u16) -> Reply {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Add a header to a `Respond`.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Answer request number `n` (0-based) with `handler(&request, n)`.
    pub async fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let reqs = requests.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    break;
                };
                let _ = sock.set_nodelay(true);
                conns.spawn(serve_connection(sock, reqs.clone(), handler.clone()));
            }
        });
        Server {
            addr,
            requests,
            task,
        }
    }

    /// Answer the requests with `replies` in order; the last one repeats.
    pub async fn script(replies: Vec<Reply>) -> Server {
        assert!(!replies.is_empty());
        Server::start(move |_, n| replies[n.min(replies.len() - 1)].clone()).await
    }

    /// Always answer `reply`.
    pub async fn always(reply: Reply) -> Server {
        Server::script(vec![reply]).await
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }

    /// How many requests were received.
    pub fn count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }
}

async fn serve_connection(
    sock: TcpStream,
    requests: Arc<Mutex<Vec<Recorded>>>,
    handler: Arc<Handler>,
) {
    let mut reader = BufReader::new(sock);
    loop {
        let Some(req) = read_request(&mut reader).await else {
            return;
        };
        let n = {
            let mut all = requests.lock().expect("lock");
            all.push(req.clone());
            all.len() - 1
        };
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match handler(&req, n) {
            Reply::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (k, v) in &headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                let sock = reader.get_mut();
                if sock.write_all(head.as_bytes()).await.is_err()
                    || sock.write_all(&body).await.is_err()
                {
                    return;
                }
                let _ = sock.flush().await;
            }
            Reply::Stall {
                status,
                length,
                partial,
            } => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n",
                    reason(status)
                );
                let sock = reader.get_mut();
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&partial).await;
                let _ = sock.flush().await;
                tokio::time::sleep(Duration::from_secs(20)).await;
                return;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(20)).await;
                return;
            }
            Reply::Reset => {
                let sock = reader.into_inner();
                // SO_LINGER 0 makes close() send RST instead of FIN. The
                // deprecation is about blocking on drop with a non-zero
                // linger; zero never blocks.
                #[allow(deprecated)]
                let _ = sock.set_linger(Some(Duration::ZERO));
                drop(sock);
                return;
            }
        }
        if close {
            return;
        }
    }
}

/// Read one request; `None` at EOF or on garbage.
pub async fn read_request<S: AsyncRead + AsyncWrite + Unpin>(
    reader: &mut BufReader<S>,
) -> Option<Recorded> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line).await.ok()?;
        if n == 0 {
            return None;
        }
        if line == b"\r\n" && !head.is_empty() {
            break;
        }
        if line == b"\r\n" {
            continue; // stray CRLF between requests
        }
        head.push(line);
        if head.len() > 200 {
            return None;
        }
    }
    let text: Vec<String> = head
        .iter()
        .map(|l| {
            String::from_utf8_lossy(l)
                .trim_end_matches("\r\n")
                .to_owned()
        })
        .collect();
    let request_line = text[0].clone();
    let mut parts = request_line.splitn(3, ' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let headers: Vec<(String, String)> = text[1..]
        .iter()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let mut rec = Recorded {
        request_line,
        method,
        target,
        headers,
        body: Vec::new(),
        chunked: false,
    };
    if rec
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        rec.chunked = true;
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).await.ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            rec.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = rec.header("content-length") {
        let len: usize = len.parse().ok()?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await.ok()?;
        rec.body = body;
    }
    Some(rec)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

// ---------------------------------------------------------------------
// Hand-written API tables, shaped like what the generator emits for XO.

/// XO-like API: cookie token under `/rest/v0`.
pub static API: ApiSpec = ApiSpec {
    name: "test-api",
    version: Some("1"),
    base_path: "/rest/v0",
    auth: AuthSpec::Header {
        name: "Cookie",
        prefix: "authenticationToken=",
    },
};

/// An API that sends its token in the query string.
pub static QUERY_TOKEN_API: ApiSpec = ApiSpec {
    name: "query-token-api",
    version: None,
    base_path: "/api",
    auth: AuthSpec::Query { param: "token" },
};

/// XO's policy with our overlay's paths (`dadl/xen-orchestra.errata.yaml`:
/// the message is `error`, XO's own code `data.code`) and test-friendly
/// delays.
pub static POLICY: ErrorPolicy = ErrorPolicy {
    message_path: Some("$.error"),
    code_path: Some("$.data.code"),
    retry_on: &[429, 502, 503, 504],
    terminal: &[400, 401, 403, 404],
    max_retries: 3,
    backoff: Backoff::Exponential,
    initial_delay_ms: 5,
    status_map: &[],
    retry_after_header: None,
};

const fn op(
    tool: &'static str,
    method: HttpMethod,
    path: &'static str,
    request_body: RequestBodyKind,
    response: ResponseKind,
) -> OperationSpec {
    OperationSpec {
        tool,
        method,
        path,
        access: Some("read"),
        request_body,
        response,
        errors: &POLICY,
        idempotency: None,
        retry_unsafe: false,
        default_headers: &[("Accept", "application/json")],
    }
}

pub static GET_VM: OperationSpec = op(
    "get_vm",
    HttpMethod::Get,
    "/vms/{id}",
    RequestBodyKind::None,
    ResponseKind::Json,
);

pub static LIST_VMS: OperationSpec = op(
    "list_vms",
    HttpMethod::Get,
    "/vms",
    RequestBodyKind::None,
    ResponseKind::Json,
);

/// A form-urlencoded operation (no XO tool has one; DADL v0.1 does).
pub static POST_FORM: OperationSpec = op(
    "post_form",
    HttpMethod::Post,
    "/forms",
    RequestBodyKind::Form,
    ResponseKind::Json,
);

pub static START_VM: OperationSpec = op(
    "start_vm",
    HttpMethod::Post,
    "/vms/{id}/actions/start",
    RequestBodyKind::Json,
    ResponseKind::Json,
);

pub static UPDATE_VM: OperationSpec = op(
    "update_vm",
    HttpMethod::Patch,
    "/vms/{id}",
    RequestBodyKind::Json,
    ResponseKind::Json,
);

pub static DELETE_VM: OperationSpec = op(
    "delete_vm",
    HttpMethod::Delete,
    "/vms/{id}",
    RequestBodyKind::None,
    ResponseKind::Json,
);

pub static EXPORT_VM: OperationSpec = op(
    "export_vm_xva",
    HttpMethod::Get,
    "/vms/{id}.xva",
    RequestBodyKind::None,
    ResponseKind::Binary {
        content_type: Some("application/octet-stream"),
    },
);

pub static IMPORT_VDI: OperationSpec = op(
    "import_vdi_raw",
    HttpMethod::Put,
    "/vdis/{id}.raw",
    RequestBodyKind::Raw {
        content_type: "application/octet-stream",
    },
    ResponseKind::Json,
);

pub static IMPORT_VM: OperationSpec = op(
    "import_vm",
    HttpMethod::Post,
    "/pools/{id}/vms",
    RequestBodyKind::Raw {
        content_type: "application/octet-stream",
    },
    ResponseKind::Json,
);

pub static CREATE_TOKEN: OperationSpec = op(
    "create_token",
    HttpMethod::Post,
    "/users/{id}/authentication_tokens",
    RequestBodyKind::Json,
    ResponseKind::Json,
);

/// A POST with an idempotency header.
pub static CREATE_IDEMPOTENT: OperationSpec = OperationSpec {
    idempotency: Some(IdempotencySpec {
        header: "Idempotency-Key",
    }),
    ..op(
        "create_thing",
        HttpMethod::Post,
        "/things",
        RequestBodyKind::Json,
        ResponseKind::Json,
    )
};

/// A POST whose DADL says `retry_unsafe: true`.
pub static RETRY_UNSAFE_POST: OperationSpec = OperationSpec {
    retry_unsafe: true,
    ..op(
        "poke",
        HttpMethod::Post,
        "/poke",
        RequestBodyKind::Json,
        ResponseKind::Json,
    )
};

/// A GET on the query-token API.
pub static QT_GET: OperationSpec = op(
    "qt_get",
    HttpMethod::Get,
    "/things/{id}",
    RequestBodyKind::None,
    ResponseKind::Json,
);

/// A request for `spec`, filled in by `f` (the setters borrow mutably, the
/// senders consume, as in generated code).
pub fn call(
    client: &xo_sdk::Client,
    spec: &'static OperationSpec,
    f: impl FnOnce(&mut xo_sdk::runtime::Request),
) -> xo_sdk::runtime::Request {
    let mut r = client.request(spec);
    f(&mut r);
    r
}

/// A client for `server` with a token.
pub fn client(server: &Server) -> xo_sdk::Client {
    xo_sdk::Client::builder_for(&API, server.url())
        .token("tok")
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------
// Tracing capture.

/// Capture all tracing output of this test binary as text (one global
/// subscriber: thread-scoped ones miss events of callsites whose interest
/// another test thread cached first).
pub fn global_capture() -> Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(capture.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
            capture
        })
        .clone()
}

#[derive(Clone, Default)]
pub struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// The throw-away test CA (PEM) that signed the TLS test server's certificate.
pub const TEST_CA_PEM: &[u8] = include_bytes!("tls/ca.pem");

/// A TLS acceptor with the test server certificate (for `127.0.0.1` and
/// `localhost`, signed by [`TEST_CA_PEM`]), on the `ring` provider.
pub fn test_tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(include_bytes!("tls/server.pem"))
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("tls/server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A fresh xo-sim and an SDK client logged in to it as the admin.
pub async fn sim() -> (xo_sim::Sim, xo_sdk::Client) {
    let sim = xo_sim::start().await.expect("xo-sim starts");
    let client = admin_client(&sim);
    (sim, client)
}

/// An SDK client logged in to `sim` as the admin.
pub fn admin_client(sim: &xo_sim::Sim) -> xo_sdk::Client {
    xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap()
}
