//! Retry configuration, per-call options, backoff with full jitter, and
//! `Retry-After` parsing.
//!
//! The operation's DADL `errors` policy says *which* statuses may be retried
//! and how often; this module adds the safety rules the DADL cannot express
//! (see [`RetryConfig`]) and lets a client or a single call tighten or turn
//! off retrying.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::spec::{Backoff, ErrorPolicy, OperationSpec};

/// How a client (or one call) retries failed requests.
///
/// By default the operation's DADL policy applies (`retry_on`,
/// `max_retries`, `backoff`, `initial_delay`, `terminal`; for Xen
/// Orchestra: 429, 502, 503 and 504, 3 retries, exponential from 2 s), with
/// these rules on top:
///
/// * the delay before each retry is drawn uniformly from zero to the
///   backoff delay ("full jitter"), so that many clients failing together
///   do not retry together; it never exceeds [`RetryConfig::max_delay`];
/// * a `Retry-After` answer (seconds or HTTP date) is waited for exactly;
///   when it asks for more than [`RetryConfig::max_retry_after`] the error
///   is returned instead (its [`ApiError::retry_after`](super::ApiError::retry_after)
///   says how long the server wanted);
/// * a request that is not idempotent (`POST`, `PATCH`) is sent again only
///   when there is evidence that the server did not act on it, since
///   sending it twice may run an action twice;
/// * a streaming request body is never sent twice;
/// * a timeout is never retried: the server is reachable but slow, and a
///   retry would multiply the wait.
///
/// Each row, for a status in the policy's `retry_on` (any other status, a
/// `terminal` one in particular, is never retried):
///
/// | request | answer or failure | retried | why |
/// | --- | --- | --- | --- |
/// | `GET`, `HEAD`, `PUT`, `DELETE` | 429, 502, 503, 504 | yes | idempotent: doing it twice is doing it once |
/// | `GET`, `HEAD`, `PUT`, `DELETE` | connection refused, reset or cut (the answer's body included) | yes | idempotent |
/// | any | the connection could not be opened (refused, connect timeout) | yes | nothing was sent |
/// | `POST`, `PATCH` | 429 | yes | a rate limiter refuses before the request is processed (RFC 6585) |
/// | `POST`, `PATCH` | 503 with a `Retry-After` | yes | the server itself says it is refusing requests for a while (overload, maintenance: RFC 9110 §15.6.4) |
/// | `POST`, `PATCH` | 503 without `Retry-After` | no, unless [`retry_unprocessed_503`](Self::retry_unprocessed_503) | proxies answer 503 when the upstream connection broke after the request was forwarded (Envoy's "upstream reset before headers"): XO may be running the action |
/// | `POST`, `PATCH` | 502, 504 | no | a gateway forwarded the request: XO may have processed it |
/// | `POST`, `PATCH` | connection reset or cut after sending | no | the request may have been processed |
/// | `POST`, `PATCH` of an operation with DADL `retry_unsafe`, or an idempotency key | as `GET` | yes | the operation (or the server, by its key) makes a repeat harmless |
/// | any | 500, 400, 401, 403, 404, 409, 422 | no | not in XO's `retry_on`: the same request gets the same answer |
/// | any | read-idle, write-idle or total timeout | no | the server is slow, not gone |
/// | any | TLS certificate rejected | no | the same certificate is rejected again |
/// | streaming body (file, reader, stream) | anything | no | the body cannot be read twice |
/// | any | `Retry-After` beyond [`max_retry_after`](Self::max_retry_after) | no | the error carries the pause asked for |
/// | any | a 2xx answer that is too large or does not decode | no | asking again gets the same bytes |
///
/// With [`RetryConfig::disabled`] nothing is retried;
/// [`max_retries`](Self::max_retries) only changes the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    enabled: bool,
    max_retries: Option<u32>,
    initial_delay: Option<Duration>,
    max_delay: Duration,
    max_retry_after: Duration,
    unprocessed_503: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            max_retries: None,
            initial_delay: None,
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            unprocessed_503: false,
        }
    }
}

impl RetryConfig {
    /// Follow each operation's DADL policy (the default).
    pub fn new() -> Self {
        RetryConfig::default()
    }

    /// Never retry: every call sends its request at most once (same-origin
    /// redirects are still followed).
    pub fn disabled() -> Self {
        RetryConfig {
            enabled: false,
            ..RetryConfig::default()
        }
    }

    /// Retry at most `n` times, whatever the DADL policy says (`0` turns
    /// retries off). Statuses are still those of the policy's `retry_on`.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// Use `delay` instead of the policy's initial delay as the backoff base.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = Some(delay);
        self
    }

    /// Upper bound of one backoff delay (default 30 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Longest `Retry-After` pause that is waited for (default 60 s); a
    /// longer one ends the call with the error.
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// Take every 503 as proof that the request was not processed, and
    /// retry `POST` and `PATCH` on it like `GET` (default `false`: only a
    /// 503 with a `Retry-After` is). Turn it on when nothing between the
    /// client and Xen Orchestra answers 503 for a request it forwarded
    /// (xo-server itself answers 503 only when it does not take requests).
    ///
    /// ```
    /// use xo_sdk::runtime::{CallOptions, RetryConfig};
    ///
    /// let opts = CallOptions::new().retry(RetryConfig::new().retry_unprocessed_503(true));
    /// # let _ = opts;
    /// ```
    pub fn retry_unprocessed_503(mut self, yes: bool) -> Self {
        self.unprocessed_503 = yes;
        self
    }

    /// Whether retrying is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// How many retries an operation with `policy` gets.
    pub(crate) fn retries_for(&self, policy: &ErrorPolicy) -> u32 {
        if !self.enabled {
            return 0;
        }
        self.max_retries.unwrap_or(policy.max_retries)
    }

    pub(crate) fn max_retry_after_value(&self) -> Duration {
        self.max_retry_after
    }

    /// The jittered delay before retry number `retry` (1-based).
    pub(crate) fn backoff(&self, policy: &ErrorPolicy, retry: u32) -> Duration {
        let base = self
            .initial_delay
            .unwrap_or(Duration::from_millis(policy.initial_delay_ms));
        let ceiling = backoff_ceiling(policy.backoff, base, retry).min(self.max_delay);
        full_jitter(ceiling)
    }
}

/// The un-jittered delay before retry number `retry` (1-based).
fn backoff_ceiling(shape: Backoff, base: Duration, retry: u32) -> Duration {
    let retry = retry.max(1);
    match shape {
        Backoff::Constant => base,
        Backoff::Linear => base.saturating_mul(retry),
        // 2^(retry-1), saturating: 2^31 * any base already exceeds every cap.
        Backoff::Exponential => base.saturating_mul(1u32 << (retry - 1).min(31)),
    }
}

/// A uniformly random duration in `[0, ceiling]`.
fn full_jitter(ceiling: Duration) -> Duration {
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(random_u64() % (nanos.saturating_add(1)).max(1))
}

/// 64 unpredictable bits without a `rand` dependency: std's `RandomState`
/// is keyed from the operating system's RNG once per thread and its keys
/// change with every instance, so SipHash over a counter and the clock
/// gives values that differ between calls, threads and processes. Good
/// enough for jitter and for idempotency keys, which need uniqueness, not
/// cryptographic secrecy.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    h.finish()
}

/// A random (version 4) UUID in its usual text form, used as an idempotency
/// key: one per logical call, reused across its retries.
pub(crate) fn new_idempotency_key() -> String {
    let hi = random_u64();
    let lo = random_u64();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Parse a `Retry-After` value: delay-seconds or an HTTP date (a date in
/// the past means "now").
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why an attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connection could not be opened: nothing reached the server.
    NotSent,
    /// The connection broke after the request may have been sent.
    Broken,
    /// A timeout elapsed.
    Timeout,
    /// The request itself is faulty; sending it again cannot help.
    Permanent,
    /// The server answered with this status.
    Status(u16),
}

/// Whether a failure of `spec` may be retried at all (budget, body
/// replayability and delays are checked by the caller). `retry_after`:
/// the answer carried a valid `Retry-After`. The table of
/// [`RetryConfig`] is this function.
pub(crate) fn is_retryable(
    config: &RetryConfig,
    spec: &OperationSpec,
    has_idempotency_key: bool,
    f: Failure,
    retry_after: bool,
) -> bool {
    let unsafe_ok = spec.method.is_idempotent() || spec.retry_unsafe || has_idempotency_key;
    match f {
        Failure::NotSent => true,
        Failure::Broken => unsafe_ok,
        Failure::Timeout | Failure::Permanent => false,
        Failure::Status(s) => {
            let policy = spec.errors;
            policy.retry_on.contains(&s)
                && !policy.terminal.contains(&s)
                && (unsafe_ok || not_processed(config, s, retry_after))
        }
    }
}

/// Whether status `s` shows that a request was not acted upon: 429 (a rate
/// limiter refuses before processing), 503 with a `Retry-After` (the
/// server says it is not taking requests), any 503 when the caller says so.
fn not_processed(config: &RetryConfig, s: u16, retry_after: bool) -> bool {
    match s {
        429 => true,
        503 => retry_after || config.unprocessed_503,
        _ => false,
    }
}

/// Options for one call, overriding the client's settings.
///
/// Generated request builders accept them through `with_call_options`.
///
/// ```
/// use std::time::Duration;
/// use xo_sdk::runtime::{CallOptions, RetryConfig};
///
/// let opts = CallOptions::new()
///     .timeout(Duration::from_secs(30))
///     .retry(RetryConfig::disabled());
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) max_answer_size: Option<u64>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Fail with [`Error::Timeout`](super::Error::Timeout) (`total`) when the
    /// whole call, retries and backoff included, takes longer than
    /// `timeout`. For a streamed download the deadline also covers reading
    /// the stream. There is no total timeout by default: exports and
    /// imports can run for hours.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retry this call according to `retry` instead of the client's setting.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Send `key` as the idempotency key instead of a generated one. Only
    /// used by operations whose DADL declares an idempotency header; for
    /// others the key is ignored and does not make retries of `POST` or
    /// `PATCH` any more permissive.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The largest answer this call reads into memory, in bytes, instead of
    /// the client's [`max_answer_size`](super::ClientBuilder::max_answer_size)
    /// (default [`DEFAULT_MAX_ANSWER_SIZE`](super::DEFAULT_MAX_ANSWER_SIZE),
    /// 256 MiB). A bigger answer fails with
    /// [`Error::AnswerTooLarge`](super::Error::AnswerTooLarge). Streamed
    /// answers (exports, a collection's `stream()`) are not buffered and
    /// have no such cap.
    pub fn max_answer_size(mut self, bytes: u64) -> Self {
        self.max_answer_size = Some(bytes);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::from_secs(0)));
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn backoff_shapes_and_caps() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff_ceiling(Backoff::Constant, b, 3), b);
        assert_eq!(
            backoff_ceiling(Backoff::Linear, b, 3),
            Duration::from_millis(300)
        );
        assert_eq!(
            backoff_ceiling(Backoff::Exponential, b, 4),
            Duration::from_millis(800)
        );
        // No overflow panic for absurd retry numbers.
        let _ = backoff_ceiling(Backoff::Exponential, b, u32::MAX);
        let policy = ErrorPolicy {
            initial_delay_ms: 1000,
            ..ErrorPolicy::NONE
        };
        let cfg = RetryConfig::new().max_delay(Duration::from_millis(50));
        for retry in 1..20 {
            assert!(cfg.backoff(&policy, retry) <= Duration::from_millis(50));
        }
    }

    #[test]
    fn post_on_503_needs_evidence_or_consent() {
        use super::super::spec::{HttpMethod, RequestBodyKind, ResponseKind};
        static POLICY: ErrorPolicy = ErrorPolicy {
            retry_on: &[429, 502, 503, 504],
            ..ErrorPolicy::NONE
        };
        let op = |method| OperationSpec {
            tool: "t",
            method,
            path: "/x",
            access: None,
            request_body: RequestBodyKind::None,
            response: ResponseKind::Json,
            errors: &POLICY,
            idempotency: None,
            retry_unsafe: false,
            default_headers: &[],
        };
        let (get, post) = (op(HttpMethod::Get), op(HttpMethod::Post));
        let def = RetryConfig::new();
        let opt_in = RetryConfig::new().retry_unprocessed_503(true);
        let s = Failure::Status;
        assert!(is_retryable(&def, &get, false, s(503), false));
        assert!(!is_retryable(&def, &post, false, s(503), false));
        assert!(is_retryable(&def, &post, false, s(503), true));
        assert!(is_retryable(&opt_in, &post, false, s(503), false));
        assert!(is_retryable(&def, &post, false, s(429), false));
        assert!(is_retryable(&def, &post, true, s(503), false));
        for st in [500, 502, 504] {
            assert!(!is_retryable(&opt_in, &post, false, s(st), true), "{st}");
        }
        assert!(!is_retryable(&def, &post, false, Failure::Broken, false));
        assert!(is_retryable(&def, &post, false, Failure::NotSent, false));
    }

    #[test]
    fn idempotency_keys_look_like_uuids_and_differ() {
        let a = new_idempotency_key();
        let b = new_idempotency_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
