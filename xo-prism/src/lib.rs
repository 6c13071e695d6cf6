//! `xo-prism`: xo-sim's Prism validation mode. Every request a server
//! receives and every answer it gives are checked against XO's official
//! OpenAPI document by Prism (`@stoplight/prism-cli`), while the server
//! keeps answering its clients itself.
//!
//! The harness knows nothing of the simulator: it is an axum middleware for
//! any server speaking XO's REST API under `/rest/v0`. xo-sim wraps its
//! router with it (behind its `prism` feature) so that every simulator of a
//! test process is checked without the tests doing anything.
//!
//! Enabled by the environment: `XO_SIM_PRISM` (the `prism` executable) and
//! `XO_SIM_SPEC` (the official `swagger.json`, its paths with or without the
//! `/rest/v0` prefix). Violations are appended to `XO_SIM_PRISM_REPORT`
//! (or printed on stderr without it).
//!
//! The one entry point is [`tap_from_env`]:
//!
//! ```no_run
//! # async fn demo(app: axum::Router) -> std::io::Result<()> {
//! // `None` unless the environment asks for Prism validation.
//! if let Some(tap) = xo_prism::tap_from_env("my test").await? {
//!     let app = tap.layer(app);
//!     // …serve `app`; later, `tap.stats()` counts the findings.
//! #   let _ = app;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Why Prism is not put in front of the server
//!
//! `prism proxy` buffers whole answers and decodes bodies as text: an SSE
//! stream or a task watch never reaches the client, binary exports and
//! imports are mangled, broken connections become Prism's own 500, and a
//! request Prism finds invalid is answered by Prism (422) instead of the
//! simulator. Tests would then check Prism, not XO's behaviour. So the
//! simulator keeps answering its clients itself, and each exchange is
//! replayed through one `prism proxy <spec> <replay server>` per process:
//! Prism gets the client's request (method, path, query, headers, body) and
//! forwards it to a replay server that answers with the simulator's recorded
//! answer (status, headers, body), which Prism validates in turn. The
//! violations come back in Prism's `sl-violations` header. Prism runs without
//! `--errors` so that a request violation does not keep the answer from being
//! checked; its severity `error` findings are exactly those `--errors` turns
//! into 422/500.
//!
//! Answers with a known length are checked before they are sent (the client
//! sees nothing until Prism is done). Streamed answers pass through untouched
//! and are checked when they end (for chunked ones, before the final chunk),
//! or when the client leaves (SSE, watch). Binary bodies are checked on their
//! first 64 KiB (their schemas are strings: a prefix is as valid as the
//! whole).
//!
//! # Prism's copy of the document
//!
//! Paths relative to `/rest/v0`, ordered so that `/vms/x.xva` is the export
//! and not `/vms/{id}`; and two kinds of schemas Prism's validator cannot
//! compile (it then checks nothing of the body concerned, silently) repaired
//! and reported: TypeScript "branded" strings and `nullable` without `type`
//! (see `spec.rs`). Findings that the document's own defects make
//! unavoidable are counted apart, never dropped (see `defects.rs`).
//!
//! # Prism's process
//!
//! One Prism per process, started by the first simulator and ended with the
//! process: an `atexit` hook drains the pending checks and stops it, and a
//! shell watchdog kills it as soon as the process's end of a pipe closes
//! (abort, signal), so no Prism outlives its test binary.

#![deny(missing_docs)]

mod check;
mod defects;
mod process;
mod spec;
mod tap;

pub use tap::Tap;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use tokio::sync::{Semaphore, mpsc, oneshot};

use check::worker;
use defects::DEFECTS;
use process::PrismProcess;
use spec::{Templates, prepare_spec};

/// Environment variable naming the `prism` executable.
pub const ENV_PRISM: &str = "XO_SIM_PRISM";
/// Environment variable naming XO's official OpenAPI document (JSON).
pub const ENV_SPEC: &str = "XO_SIM_SPEC";
/// Environment variable naming the file violations are appended to.
pub const ENV_REPORT: &str = "XO_SIM_PRISM_REPORT";

/// The API's prefix; the official document's paths are relative to it.
const API_PREFIX: &str = "/rest/v0";
/// Header carrying an exchange's id from Prism to the replay server.
const REPLAY_HEADER: &str = "x-xo-sim-replay";
/// Bodies kept whole for the check (JSON and other text).
const TEXT_CAP: usize = 16 * 1024 * 1024;
/// Binary bodies are checked on this prefix.
const BINARY_CAP: usize = 64 * 1024;
/// Bound on Prism's start.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// Bound on one check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on draining the pending checks at exit.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// Concurrent checks sent to Prism.
const CONCURRENCY: usize = 8;

/// Counters of one server's exchanges checked by Prism (one [`Tap`]'s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrismStats {
    /// Exchanges (request and answer) Prism checked.
    pub checked: u64,
    /// Violations found (severity error, known spec defects excluded).
    pub violations: u64,
    /// Findings caused by known defects of the official document.
    pub known_defects: u64,
    /// Request violations of requests the server refused with a 4xx, as
    /// XO would: negative tests send them on purpose.
    pub refused: u64,
    /// Findings caused by objects the test put in the server itself
    /// ([`Tap::injected`]; xo-sim's `Sim::put_object`, `Sim::update_object`).
    pub injected: u64,
    /// Prism's warnings (e.g. an error status the document does not list).
    pub warnings: u64,
    /// Exchanges that could not be checked (body broken on purpose by a
    /// test hook, client gone mid-answer, Prism unreachable).
    pub unchecked: u64,
}

#[derive(Default)]
struct Counters {
    checked: AtomicU64,
    violations: AtomicU64,
    known_defects: AtomicU64,
    refused: AtomicU64,
    injected: AtomicU64,
    warnings: AtomicU64,
    unchecked: AtomicU64,
}

impl Counters {
    fn stats(&self) -> PrismStats {
        PrismStats {
            checked: self.checked.load(Ordering::SeqCst),
            violations: self.violations.load(Ordering::SeqCst),
            known_defects: self.known_defects.load(Ordering::SeqCst),
            refused: self.refused.load(Ordering::SeqCst),
            injected: self.injected.load(Ordering::SeqCst),
            warnings: self.warnings.load(Ordering::SeqCst),
            unchecked: self.unchecked.load(Ordering::SeqCst),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Report {
    file: Mutex<Option<File>>,
}

impl Report {
    fn open(path: Option<PathBuf>) -> io::Result<Report> {
        let file = match path {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        Ok(Report {
            file: Mutex::new(file),
        })
    }

    /// Appends one tab-separated line (tabs and newlines in fields become
    /// spaces); without a report file, findings go to stderr.
    fn line(&self, fields: &[&str]) {
        let clean: Vec<String> = fields
            .iter()
            .map(|f| f.replace(['\t', '\n', '\r'], " "))
            .collect();
        let mut text = clean.join("\t");
        text.push('\n');
        let mut file = lock(&self.file);
        match file.as_mut() {
            Some(f) => {
                let _ = f.write_all(text.as_bytes());
            }
            // Without a report file, the findings go to stderr.
            None if matches!(
                fields.first().copied(),
                Some("violation" | "defect" | "refused" | "injected" | "warning" | "unchecked")
            ) =>
            {
                eprint!("xo-sim prism: {text}");
            }
            None => {}
        }
    }
}

/// What the middleware knows about a request.
#[derive(Clone)]
struct Meta {
    origin: Arc<str>,
    counters: Arc<Counters>,
    method: Method,
    /// Path and query as the client sent them.
    target: String,
    headers: HeaderMap,
    /// Ids of the objects the test put in the simulator itself.
    injected: Arc<Mutex<Vec<String>>>,
}

impl Meta {
    fn route(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// An exchange to check.
struct Job {
    meta: Meta,
    req_body: Bytes,
    status: StatusCode,
    resp_headers: HeaderMap,
    resp_body: Bytes,
    /// Caveats printed with the exchange (prefix-only bodies…).
    notes: Vec<String>,
    done: Option<oneshot::Sender<()>>,
}

/// A recorded answer, served to Prism by the replay server.
struct Replay {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// The process-wide checker: Prism, the replay server and the report.
struct Validator {
    jobs: mpsc::UnboundedSender<Job>,
    report: Arc<Report>,
    pending: Arc<AtomicUsize>,
    prism: Mutex<Option<PrismProcess>>,
    spec_dir: PathBuf,
}

struct Shared {
    prism_addr: SocketAddr,
    replays: Mutex<HashMap<u64, Replay>>,
    next_id: AtomicU64,
    report: Arc<Report>,
    pending: Arc<AtomicUsize>,
    limit: Semaphore,
    templates: Templates,
    /// Operations using schemas repaired in Prism's copy, with the kinds of
    /// repair (see `spec::prepare_spec`).
    affected: std::collections::BTreeMap<String, std::collections::BTreeSet<&'static str>>,
}

static VALIDATOR: OnceLock<Result<Arc<Validator>, String>> = OnceLock::new();
/// Exchanges the simulators of this process received.
static TAPPED: AtomicU64 = AtomicU64::new(0);

/// A [`Tap`] for one server when the environment asks for Prism validation
/// (`XO_SIM_PRISM` and `XO_SIM_SPEC` both set and not empty), `None`
/// otherwise. `origin` names the server's exchanges in the report (xo-sim
/// gives the test's thread name).
///
/// The first call of the process starts Prism, a replay server and the
/// report; they serve every later tap and end with the process. When they
/// cannot start, this call and every later one fail with the same error.
pub async fn tap_from_env(origin: impl Into<String>) -> io::Result<Option<Arc<Tap>>> {
    let origin = origin.into();
    Ok(validator_from_env().await?.map(|v| Tap::new(v, origin)))
}

/// The process's checker when the environment asks for one (started on
/// first use; its failure to start is every later caller's error).
async fn validator_from_env() -> io::Result<Option<Arc<Validator>>> {
    let (Some(prism), Some(spec)) = (
        std::env::var_os(ENV_PRISM).filter(|v| !v.is_empty()),
        std::env::var_os(ENV_SPEC).filter(|v| !v.is_empty()),
    ) else {
        return Ok(None);
    };
    let report = std::env::var_os(ENV_REPORT)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let started = tokio::task::spawn_blocking(move || {
        VALIDATOR
            .get_or_init(|| {
                Validator::start(Path::new(&prism), Path::new(&spec), report)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    })
    .await
    .map_err(io::Error::other)?;
    started
        .map(Some)
        .map_err(|e| io::Error::other(format!("xo-sim Prism mode ({ENV_PRISM}, {ENV_SPEC}): {e}")))
}

impl Validator {
    fn start(prism: &Path, spec: &Path, report: Option<PathBuf>) -> io::Result<Validator> {
        let report = Arc::new(Report::open(report)?);
        let spec_dir =
            std::env::temp_dir().join(format!("xo-sim-prism-{}-{}", std::process::id(), now_ms()));
        fs::create_dir_all(&spec_dir)?;
        let spec_copy = spec_dir.join("openapi.json");
        let started = prepare_spec(spec, &spec_copy).and_then(|prepared| {
            let replay = StdListener::bind("127.0.0.1:0")?;
            let replay_addr = replay.local_addr()?;
            let process = PrismProcess::spawn(prism, &spec_copy, replay_addr)?;
            Ok((replay, process, prepared))
        });
        let (replay, process, prepared) = match started {
            Ok(s) => s,
            Err(e) => {
                let _ = fs::remove_dir_all(&spec_dir);
                return Err(e);
            }
        };
        let pending = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            prism_addr: process.addr,
            replays: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            report: report.clone(),
            pending: pending.clone(),
            limit: Semaphore::new(CONCURRENCY),
            templates: Templates(prepared.templates),
            affected: prepared.affected,
        });
        let (tx, rx) = mpsc::unbounded_channel();
        replay.set_nonblocking(true)?;
        std::thread::Builder::new()
            .name("xo-sim-prism".into())
            .spawn(move || worker(shared, replay, rx))?;
        register_exit_hook();
        for d in DEFECTS {
            report.line(&["known-defect", d.id, d.what]);
        }
        for (kind, pointer) in &prepared.repairs {
            report.line(&["repaired", kind, pointer]);
        }
        Ok(Validator {
            jobs: tx,
            report,
            pending,
            prism: Mutex::new(Some(process)),
            spec_dir,
        })
    }

    fn submit(&self, job: Job) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job) {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            self.unchecked(
                &job.meta,
                Some(job.status),
                "error",
                "the Prism worker has stopped",
            );
        }
    }

    /// Records an exchange that cannot be checked. `kind` is `broken` (body
    /// failed on purpose, a test hook), `left` (client gone) or `error`.
    fn unchecked(&self, meta: &Meta, status: Option<StatusCode>, kind: &str, why: &str) {
        meta.counters.unchecked.fetch_add(1, Ordering::SeqCst);
        let route = meta.route();
        let status = status.map_or("-".to_string(), |s| s.as_u16().to_string());
        self.report.line(&[
            "exchange",
            &meta.origin,
            &route,
            &status,
            &format!("unchecked:{kind}"),
        ]);
        self.report
            .line(&["unchecked", &meta.origin, &route, &status, kind, why]);
    }

    /// Waits (bounded) for the pending checks, then stops Prism.
    fn shutdown(&self) {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while self.pending.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // The exchanges this process saw (each has one `exchange` line) and
        // the checks lost at its end, for the suite's totals.
        let lost = self.pending.load(Ordering::SeqCst);
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        self.report.line(&[
            "process",
            &exe,
            &TAPPED.load(Ordering::SeqCst).to_string(),
            &lost.to_string(),
        ]);
        if let Some(p) = lock(&self.prism).take() {
            p.stop(false);
        }
        let _ = fs::remove_dir_all(&self.spec_dir);
    }
}

/// Milliseconds since the Unix epoch: with the process id, a name for the
/// directory of Prism's copy of the document that no other run uses.
fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

extern "C" fn at_exit() {
    if let Some(Ok(v)) = VALIDATOR.get() {
        v.shutdown();
    }
}

fn register_exit_hook() {
    unsafe extern "C" {
        fn atexit(cb: extern "C" fn()) -> std::ffi::c_int;
    }
    // SAFETY: `at_exit` is a plain function that never unwinds (it only
    // sleeps, writes a file and stops a child process); registering it has
    // no other precondition.
    unsafe {
        atexit(at_exit);
    }
}
