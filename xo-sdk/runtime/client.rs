//! The HTTP client shared by every generated service.

use std::sync::Arc;
use std::time::Duration;

use super::error::{Error, Result};
use super::request::Request;
use super::spec::{ApiSpec, OperationSpec};

/// A secret string that never shows itself in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Only the runtime should call this, when it builds a
    /// request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How the client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    None,
    Token(Secret),
    Basic { user: String, password: Secret },
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    /// Base URL without trailing slash, e.g. `https://xo.example.com/rest/v0`.
    pub(crate) base_url: reqwest::Url,
    pub(crate) api: &'static ApiSpec,
    pub(crate) credentials: Credentials,
}

/// An API client: cheap to clone (one `Arc`), `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.inner.api.name)
            .field("base_url", &self.inner.base_url.as_str())
            .field("credentials", &self.inner.credentials)
            .finish()
    }
}

impl Client {
    /// Start building a client for `api` at `url`.
    pub fn builder_for(api: &'static ApiSpec, url: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder {
            api,
            url: url.as_ref().to_owned(),
            credentials: Credentials::None,
            http: None,
            connect_timeout: Some(Duration::from_secs(30)),
        }
    }

    /// The API base URL every operation path is appended to.
    pub fn base_url(&self) -> &reqwest::Url {
        &self.inner.base_url
    }

    /// Start a request for one operation. Used by generated code.
    pub fn request(&self, spec: &'static OperationSpec) -> Request {
        Request::new(self.clone(), spec)
    }
}

/// Builder for [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    api: &'static ApiSpec,
    url: String,
    credentials: Credentials,
    http: Option<reqwest::Client>,
    connect_timeout: Option<Duration>,
}

impl ClientBuilder {
    /// Authenticate with a token, injected the way the API description says
    /// (for XO: the cookie `authenticationToken`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::Token(Secret::new(token));
        self
    }

    /// Authenticate with HTTP Basic credentials (for XO: only to mint tokens).
    pub fn basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Credentials::Basic {
            user: user.into(),
            password: Secret::new(password),
        };
        self
    }

    /// Use a caller-supplied `reqwest::Client` (its own TLS, proxy and
    /// timeout settings apply).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Client> {
        let base_url = normalize_base_url(&self.url, self.api.base_path)?;
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut b = reqwest::Client::builder()
                    .user_agent(concat!("xo-sdk/", env!("CARGO_PKG_VERSION")))
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(t) = self.connect_timeout {
                    b = b.connect_timeout(t);
                }
                b.build()
                    .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))?
            }
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                base_url,
                api: self.api,
                credentials: self.credentials,
            }),
        })
    }
}

/// Accept `https://host`, `https://host/`, `https://host/rest/v0` and
/// `https://host/rest/v0/`; return the base without a trailing slash.
fn normalize_base_url(url: &str, base_path: &str) -> Result<reqwest::Url> {
    let mut parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| Error::Config(format!("invalid base URL {url:?}: {e}")))?;
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
    let path = parsed.path().trim_end_matches('/').to_owned();
    let base = base_path.trim_end_matches('/');
    let new_path = if path.is_empty() {
        base.to_owned()
    } else {
        path
    };
    parsed.set_path(&new_path);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(normalize_base_url("ftp://x", "/rest/v0").is_err());
        assert!(normalize_base_url("not a url", "/rest/v0").is_err());
    }
}
