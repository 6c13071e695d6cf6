//! The client: [`ClientBuilder`] (URL, credentials, timeouts, TLS,
//! retries, limits), and every method of [`Client`] the runtime defines.
//! The client is a handle on a transport (`super::transport`) and starts
//! the requests (`super::request`) that generated code sends.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::body::DEFAULT_MAX_ANSWER_SIZE;
use super::error::{Error, Result};
use super::request::Request;
use super::retry::RetryConfig;
use super::spec::{ApiSpec, AuthSpec, OperationSpec};
use super::transport::{
    Client, ClientInner, Credentials, HttpRecipe, Secret, TransferHttp, USER_AGENT, WireAuth,
    configure_tls,
};
use super::wire;

/// Environment variable read by [`Client::from_env_for`]: the server URL
/// (`https://xo.example.com` or `https://xo.example.com/rest/v0`). Required.
pub const ENV_URL: &str = "XO_URL";
/// Environment variable read by [`Client::from_env_for`]: the
/// authentication token. Required.
pub const ENV_TOKEN: &str = "XO_TOKEN";
/// Environment variable read by [`Client::from_env_for`]: path of a PEM
/// file with extra root certificates to trust (self-signed appliances).
/// Optional.
pub const ENV_CA_CERT: &str = "XO_CA_CERT";
/// Environment variable read by [`Client::from_env_for`]: `1` or `true`
/// turns certificate verification OFF (see
/// [`ClientBuilder::danger_accept_invalid_certs`]). Optional; `0`, `false`
/// or empty leave it on, anything else is a configuration error.
pub const ENV_INSECURE: &str = "XO_INSECURE";

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default read-idle timeout: the longest wait for the next byte of an
/// answer. It bounds a dead connection, not a long transfer.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.inner.api.name)
            .field("base_url", &self.inner.base_url.as_str())
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

impl Client {
    /// Start building a client for `api` at `url`: the server's root
    /// (`https://xo.example.com`, or a reverse-proxy prefix such as
    /// `https://proxy.example.com/xo`), with or without the API's base path
    /// (`…/rest/v0`), which is appended when missing.
    pub fn builder_for(api: &'static ApiSpec, url: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder {
            api,
            url: url.as_ref().to_owned(),
            credentials: Credentials::None,
            credential_conflict: false,
            http: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
            transport_settings: Vec::new(),
            root_pems: Vec::new(),
            accept_invalid_certs: false,
            retry: RetryConfig::default(),
            max_answer_size: DEFAULT_MAX_ANSWER_SIZE,
        }
    }

    /// Start building a client for `api` at the URL of a DADL `base_url`
    /// with `{VARIABLE}` placeholders, each filled with its value from
    /// `values` (name, value). A variable that opens the template
    /// (`{INSTANCE_URL}/api/v1`) is the server's whole origin, an absolute
    /// http(s) URL without credentials, query or fragment; a variable in
    /// the host name takes ASCII letters, digits, `-` and `.`; one that is
    /// the whole port, digits; one in the path is percent-encoded as (part
    /// of) one segment, and cannot be empty, `.` or `..`. Generated clients call this from
    /// their `builder(…)`.
    ///
    /// Fails with [`Error::Config`] naming the variable when a value does
    /// not fit its place or is missing.
    pub fn builder_from_template(
        api: &'static ApiSpec,
        template: &str,
        values: &[(&str, &str)],
    ) -> Result<ClientBuilder> {
        let url = expand_base_url(template, values).map_err(|(name, reason)| {
            Error::Config(format!("base URL variable `{name}`: {reason}"))
        })?;
        Ok(Client::builder_for(api, url))
    }

    /// Build a client for `api` from the environment: [`ENV_URL`],
    /// [`ENV_TOKEN`], and optionally [`ENV_CA_CERT`] and [`ENV_INSECURE`].
    pub fn from_env_for(api: &'static ApiSpec) -> Result<Client> {
        ClientBuilder::from_env_lookup(api, |name| std::env::var(name).ok())?.build()
    }

    /// The API base URL every operation path is appended to.
    pub fn base_url(&self) -> &reqwest::Url {
        &self.inner.base_url
    }

    /// The API this client talks to.
    pub fn api(&self) -> &'static ApiSpec {
        self.inner.api
    }

    /// Start a request for one operation. Used by generated code.
    pub fn request(&self, spec: &'static OperationSpec) -> Request {
        Request::new(self.clone(), spec)
    }
}

/// Builder for [`Client`].
pub struct ClientBuilder {
    api: &'static ApiSpec,
    url: String,
    credentials: Credentials,
    credential_conflict: bool,
    http: Option<reqwest::Client>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    /// Settings that only apply to a client the SDK builds; combined with
    /// [`ClientBuilder::http_client`] they are an error, not silently lost.
    transport_settings: Vec<&'static str>,
    root_pems: Vec<Vec<u8>>,
    accept_invalid_certs: bool,
    retry: RetryConfig,
    max_answer_size: u64,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api", &self.api.name)
            .field("url", &redacted_url(&self.url))
            .field("credentials", &self.credentials)
            .field("custom_http_client", &self.http.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("extra_root_pems", &self.root_pems.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("retry", &self.retry)
            .field("max_answer_size", &self.max_answer_size)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder for `api` configured from variables looked up with
    /// `lookup` (see [`Client::from_env_for`] for the names). Tests and
    /// programs with their own configuration source use this instead of the
    /// process environment.
    pub fn from_env_lookup(
        api: &'static ApiSpec,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder> {
        let url = lookup(ENV_URL)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::Config(format!("{ENV_URL} is not set")))?;
        let token = lookup(ENV_TOKEN)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::Config(format!("{ENV_TOKEN} is not set")))?;
        let mut b = Client::builder_for(api, url).token(token);
        if let Some(path) = lookup(ENV_CA_CERT).filter(|v| !v.is_empty()) {
            let pem = std::fs::read(&path).map_err(|e| {
                Error::Config(format!("cannot read {ENV_CA_CERT} file {path:?}: {e}"))
            })?;
            b = b.add_root_certificate_pem(&pem);
        }
        if let Some(v) = lookup(ENV_INSECURE) {
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" => b = b.danger_accept_invalid_certs(true),
                "" | "0" | "false" => {}
                _ => {
                    return Err(Error::Config(format!(
                        "{ENV_INSECURE} must be 1, true, 0 or false, got {v:?}"
                    )));
                }
            }
        }
        Ok(b)
    }

    fn set_credentials(&mut self, c: Credentials) {
        // Two credentials would mean two auth mechanisms on one request,
        // which XO answers with 400; refuse at build time instead.
        if !matches!(self.credentials, Credentials::None) {
            self.credential_conflict = true;
        }
        self.credentials = c;
    }

    /// Authenticate with a token, injected the way the API description says
    /// (for XO: the cookie `authenticationToken`). Exclusive with
    /// [`basic`](Self::basic).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.set_credentials(Credentials::Token(Secret::new(token)));
        self
    }

    /// Authenticate with HTTP Basic credentials (for XO: only to mint
    /// tokens). Exclusive with [`token`](Self::token): a request never
    /// carries both.
    pub fn basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.set_credentials(Credentials::Basic {
            user: user.into(),
            password: Secret::new(password),
        });
        self
    }

    /// Use a caller-supplied `reqwest::Client`: its own TLS, proxy, timeout
    /// and user-agent settings apply, and the TLS and timeout settings of
    /// this builder are refused. Build it with
    /// `.redirect(reqwest::redirect::Policy::none())`: the SDK follows
    /// same-origin 307/308 redirects itself, keeping credentials, and a
    /// redirect followed inside reqwest escapes those checks.
    ///
    /// reqwest's `read_timeout` runs from the moment a request is sent
    /// until the head of its answer: on a caller-supplied client it also
    /// ends any upload that lasts longer, however fast it moves (the SDK's
    /// own client sends uploads without it and enforces an idle timeout
    /// itself).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Connect timeout (default 30 s); `None` waits as long as the
    /// operating system does.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self.transport_settings.push("connect_timeout");
        self
    }

    /// Read-idle timeout (default 5 min): the call fails with
    /// [`Error::Timeout`] when no byte of the answer arrives for this long.
    /// It does not limit a transfer that keeps moving; for a limit on the
    /// whole call use [`CallOptions::timeout`](super::CallOptions::timeout).
    /// For an upload (a raw request body) it is the longest time without
    /// upload progress (`write idle`), then the longest wait for the answer
    /// once the body is sent (`read idle`). `None` disables it.
    pub fn read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.read_timeout = timeout.into();
        self.transport_settings.push("read_timeout");
        self
    }

    /// Trust the root certificates of a PEM bundle in addition to the
    /// system's (Xen Orchestra appliances commonly use self-signed
    /// certificates: pass that certificate here). Errors in the PEM data
    /// are reported by [`build`](Self::build).
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.root_pems.push(pem.to_vec());
        self.transport_settings.push("add_root_certificate_pem");
        self
    }

    /// **DANGER: turns off TLS certificate verification.**
    ///
    /// With `true`, any certificate is accepted, for any host name, so anyone
    /// able to intercept the connection can read the token and every
    /// request. Only for throw-away lab setups; to trust a self-signed
    /// appliance, pass its certificate to
    /// [`add_root_certificate_pem`](Self::add_root_certificate_pem) instead.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self.transport_settings.push("danger_accept_invalid_certs");
        self
    }

    /// Default retry behaviour of the client's calls (see [`RetryConfig`];
    /// [`RetryConfig::disabled`] turns retries off). One call can override
    /// it with [`CallOptions::retry`](super::CallOptions::retry).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The largest answer read into memory, in bytes (default
    /// [`DEFAULT_MAX_ANSWER_SIZE`], 256 MiB). Every answer that is decoded
    /// whole (a typed object or list, an action's result, a Markdown
    /// table) is read up to this size: a bigger one fails with
    /// [`Error::AnswerTooLarge`] before it is read (when its
    /// `Content-Length` says so) or as soon as the cap is passed, so that a
    /// broken or hostile server cannot make the client buffer gigabytes.
    /// Memory stays within the cap plus one network chunk.
    ///
    /// Streamed answers have no cap: exports ([`ByteStream`](super::ByteStream)),
    /// a collection's `stream()` (newline-delimited JSON, each line at most
    /// [`NDJSON_MAX_LINE`](super::NDJSON_MAX_LINE)). One call can change the
    /// cap with [`CallOptions::max_answer_size`](super::CallOptions::max_answer_size).
    pub fn max_answer_size(mut self, bytes: u64) -> Self {
        self.max_answer_size = bytes;
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Client> {
        if self.credential_conflict {
            return Err(Error::Config(
                "set either a token or Basic credentials, not both".into(),
            ));
        }
        let base_url = normalize_base_url(&self.url, self.api.base_path)?;
        let auth = wire_auth(&self.credentials, self.api.auth)?;
        let (http, timeout_label, idle_timeout, transfer) = match self.http {
            Some(http) => {
                if let Some(setting) = self.transport_settings.first() {
                    return Err(Error::Config(format!(
                        "`{setting}` cannot be combined with a caller-supplied reqwest::Client; \
                         configure that client instead"
                    )));
                }
                (http, "request", None, TransferHttp::Same)
            }
            None => {
                let recipe = HttpRecipe {
                    connect_timeout: self.connect_timeout,
                    root_pems: self.root_pems,
                    accept_invalid_certs: self.accept_invalid_certs,
                };
                let http = recipe.build(self.read_timeout)?;
                let transfer = TransferHttp::Lazy {
                    recipe,
                    client: OnceLock::new(),
                };
                (http, "read idle", self.read_timeout, transfer)
            }
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                base_url,
                api: self.api,
                credentials: self.credentials,
                auth,
                retry: self.retry,
                timeout_label,
                idle_timeout,
                max_answer_size: self.max_answer_size,
                transfer,
            }),
        })
    }
}

/// A `reqwest::ClientBuilder` set up the way the SDK sets up its own
/// client: [`USER_AGENT`], no automatic redirects, the default connect and
/// read-idle timeouts, and the SDK's TLS configuration (with the default
/// `rustls` feature: rustls on the `ring` provider and the platform's
/// roots).
///
/// Start from this when you need a custom client (a proxy, a local
/// address, …) and pass the result to [`ClientBuilder::http_client`]. A
/// bare `reqwest::Client::builder()` may panic when built if no rustls
/// crypto provider is enabled or installed in your program: the SDK only
/// enables reqwest's provider-less rustls flavour.
pub fn http_client_builder() -> Result<reqwest::ClientBuilder> {
    let b = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
        .read_timeout(DEFAULT_READ_TIMEOUT);
    configure_tls(b, &[], false)
}

/// The URL without any user or password in it (they are refused by
/// `build`, but a builder can be printed before that).
fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("");
                let _ = u.set_password(None);
            }
            u.to_string()
        }
        Err(_) => "<invalid URL>".to_owned(),
    }
}

/// Turn credentials into what goes on the wire, once per client. Errors
/// never quote the secret.
fn wire_auth(credentials: &Credentials, spec: AuthSpec) -> Result<WireAuth> {
    fn header(name: &str, value: String) -> Result<WireAuth> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Config(format!("invalid auth header name {name:?}")))?;
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config("the credentials contain characters not allowed in a header".into())
        })?;
        value.set_sensitive(true);
        Ok(WireAuth::Header(name, value))
    }
    match (credentials, spec) {
        (Credentials::None, _) => Ok(WireAuth::None),
        (Credentials::Token(t), AuthSpec::Header { name, prefix }) => {
            header(name, format!("{prefix}{}", t.expose()))
        }
        (Credentials::Token(t), AuthSpec::Query { param }) => Ok(WireAuth::Query(param, t.clone())),
        // An API without a declared token scheme gets the generic one.
        (Credentials::Token(t), AuthSpec::Basic | AuthSpec::None) => {
            header("authorization", format!("Bearer {}", t.expose()))
        }
        (Credentials::Basic { user, password }, _) => {
            if user.contains(':') {
                // RFC 7617: the user-id cannot contain a colon.
                return Err(Error::Config(
                    "a Basic auth user name cannot contain ':'".into(),
                ));
            }
            let raw = format!("{user}:{}", password.expose());
            header("authorization", format!("Basic {}", base64(raw.as_bytes())))
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4), for Basic credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The URL of a base URL template with its variables filled in, or the
/// variable whose value does not fit and why.
fn expand_base_url(
    template: &str,
    values: &[(&str, &str)],
) -> std::result::Result<String, (String, String)> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = 0;
    let (scheme_end, host_end) = if template.starts_with('{') {
        // `{INSTANCE_URL}/api/v1`: the variable is the whole origin (a
        // self-hosted deployment); what follows is path.
        let close = template.find('}').unwrap_or(template.len());
        let name = template.get(1..close).unwrap_or_default();
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| (name.to_owned(), "no value given".to_owned()))?;
        out.push_str(origin(value).map_err(|reason| (name.to_owned(), reason))?);
        rest = close + 1;
        (rest, rest)
    } else {
        let scheme_end = template.find("://").map_or(0, |i| i + 3);
        let host_end = template[scheme_end..]
            .find('/')
            .map_or(template.len(), |i| i + scheme_end);
        (scheme_end, host_end)
    };
    while let Some(open) = template[rest..].find('{').map(|i| i + rest) {
        let close = template[open..]
            .find('}')
            .map(|i| i + open)
            .ok_or_else(|| {
                (
                    template.to_owned(),
                    "unclosed `{` in the template".to_owned(),
                )
            })?;
        let name = &template[open + 1..close];
        let fail = |reason: &str| (name.to_owned(), reason.to_owned());
        out.push_str(&template[rest..open]);
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| fail("no value given"))?;
        if open < scheme_end {
            return Err(fail("a variable cannot stand in the scheme"));
        } else if open < host_end && template[..open].ends_with(':') && close + 1 == host_end {
            if value.is_empty()
                || !value.bytes().all(|b| b.is_ascii_digit())
                || value.parse::<u16>().is_err()
            {
                return Err(fail("a port is a number from 0 to 65535"));
            }
            out.push_str(value);
        } else if open < host_end {
            // No percent-encoding in a host name: a value that needs it
            // would name another host (or smuggle a path or user info).
            if value.is_empty()
                || !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(fail(
                    "a host name part takes ASCII letters, digits, `-` and `.` only, and cannot be empty",
                ));
            }
            out.push_str(value);
        } else {
            if value.is_empty() || wire::is_dot_segment(value) {
                return Err(fail("a path part cannot be empty, `.` or `..`"));
            }
            wire::encode_segment(value, &mut out);
        }
        rest = close + 1;
    }
    out.push_str(&template[rest..]);
    Ok(out)
}

/// The value of a variable that is a base URL's whole origin: an absolute
/// http(s) URL without credentials, query or fragment; its trailing `/`
/// dropped, since the template's path follows.
fn origin(value: &str) -> std::result::Result<&str, String> {
    let parsed = reqwest::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must be http or https".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || value.contains(['?', '#']) {
        return Err("the URL cannot have a query or fragment".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL cannot contain credentials; use token() or basic()".into());
    }
    Ok(value.trim_end_matches('/'))
}

/// Accept `https://host`, `https://host/`, `https://host/rest/v0` and
/// `https://host/rest/v0/` (and the same under a proxy prefix,
/// `https://proxy/xo[/rest/v0]`); return the API base without a trailing
/// slash.
fn normalize_base_url(url: &str, base_path: &str) -> Result<reqwest::Url> {
    let mut parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| Error::Config(format!("invalid base URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "base URL must be http or https, got {:?}",
            parsed.scheme()
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Config(
            "base URL must not have a query or fragment".into(),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in the URL would end up in logs and errors; they
        // belong in `token` or `basic`.
        return Err(Error::Config(
            "base URL must not contain credentials; use token() or basic()".into(),
        ));
    }
    let path = parsed.path().trim_end_matches('/').to_owned();
    let base = base_path.trim_end_matches('/');
    // A server behind a reverse proxy lives under a prefix
    // (`https://proxy/xo`): its API is still at `<prefix><base_path>`.
    let new_path = if base.is_empty() || path.ends_with(base) {
        path
    } else {
        format!("{path}{base}")
    };
    parsed.set_path(&new_path);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_templates() {
        let t = "https://{tenant}.example.com:{port}/api/{v}";
        let ok = expand_base_url(t, &[("tenant", "a-1.b"), ("port", "8443"), ("v", "x y/é")]);
        assert_eq!(
            ok.unwrap(),
            "https://a-1.b.example.com:8443/api/x%20y%2F%C3%A9"
        );
        for (tenant, port, v, bad) in [
            ("a/b", "1", "v", "tenant"),
            ("a@b", "1", "v", "tenant"),
            ("", "1", "v", "tenant"),
            ("a", "-1", "v", "port"),
            ("a", "70000", "v", "port"),
            ("a", "1", "..", "v"),
            ("a", "1", "", "v"),
        ] {
            let err = expand_base_url(t, &[("tenant", tenant), ("port", port), ("v", v)]);
            assert_eq!(err.unwrap_err().0, bad);
        }
        assert_eq!(
            expand_base_url(t, &[("tenant", "a")]).unwrap_err().0,
            "port"
        );
        let t = "{BASE}/api/{v}";
        let ok = expand_base_url(t, &[("BASE", "https://h:9093/prefix/"), ("v", "2")]);
        assert_eq!(ok.unwrap(), "https://h:9093/prefix/api/2");
        for bad in [
            "h:9093",
            "ftp://h",
            "https://u:p@h",
            "https://h/?q",
            "https://h/#f",
            "",
        ] {
            let err = expand_base_url(t, &[("BASE", bad), ("v", "2")]);
            assert_eq!(err.unwrap_err().0, "BASE", "{bad}");
        }
    }

    #[test]
    fn base_url_forms() {
        for u in [
            "https://xo.example.com",
            "https://xo.example.com/",
            "https://xo.example.com/rest/v0",
            "https://xo.example.com/rest/v0/",
        ] {
            assert_eq!(
                normalize_base_url(u, "/rest/v0").unwrap().as_str(),
                "https://xo.example.com/rest/v0"
            );
        }
        for u in ["https://p.example/xo", "https://p.example/xo/rest/v0/"] {
            assert_eq!(
                normalize_base_url(u, "/rest/v0").unwrap().as_str(),
                "https://p.example/xo/rest/v0"
            );
        }
        assert_eq!(
            normalize_base_url("http://h:8080/", "").unwrap().as_str(),
            "http://h:8080/"
        );
        assert!(normalize_base_url("ftp://x", "/rest/v0").is_err());
        assert!(normalize_base_url("not a url", "/rest/v0").is_err());
        assert!(normalize_base_url("https://u:p@x", "/rest/v0").is_err());
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
