//! The typed DADL model: every key of DADL v0.1 and the v0.2 additions.
//!
//! Unknown keys are errors (`deny_unknown_fields`); `_`-prefixed keys are
//! removed before deserialisation (see [`crate::load`]). Enums that decide
//! behaviour are closed Rust enums, so an unknown value is rejected rather
//! than guessed. Free-form classification strings (`access`) stay strings
//! here; the IR classifies them ([`crate::ir::Access`]).

use indexmap::IndexMap;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A whole DADL document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// URL of the DADL specification version.
    pub spec: String,
    /// Runtime requirements (v0.2), fail closed.
    #[serde(default)]
    pub requires: Option<Requires>,
    /// Contributors.
    #[serde(default)]
    pub credits: Vec<String>,
    /// Name of the described API.
    #[serde(default)]
    pub source_name: Option<String>,
    /// URL of the API documentation.
    #[serde(default)]
    pub source_url: Option<String>,
    /// Date of the file.
    #[serde(default)]
    pub date: Option<String>,
    /// The backend.
    pub backend: Backend,
    /// Cross-file includes (resolved by the loader before this model is built).
    #[serde(default)]
    pub includes: Vec<Include>,
}

/// `requires` (v0.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// Minimum ToolMesh version (informational here).
    #[serde(default)]
    pub toolmesh: Option<String>,
    /// Features the file depends on.
    #[serde(default)]
    pub features: Vec<String>,
}

/// A cross-file include.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Include {
    /// Fragment path, relative to the including file.
    pub path: String,
    /// Dotted path of the target (`backend.auth`).
    pub merge_into: String,
    /// Values that win over the fragment.
    #[serde(default)]
    pub overrides: Option<Value>,
}

/// Backend type: always `rest`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BackendType {
    /// A REST API.
    Rest,
}

/// The `backend` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// Slug name.
    pub name: String,
    /// Always `rest`.
    #[serde(rename = "type")]
    pub kind: BackendType,
    /// Version of the file.
    #[serde(default)]
    pub version: Option<String>,
    /// Base URL (optional for self-hosted APIs).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Description.
    pub description: String,
    /// OpenAPI source (informational).
    #[serde(default)]
    pub openapi_source: Option<String>,
    /// Arazzo source (informational).
    #[serde(default)]
    pub arazzo_source: Option<String>,
    /// Authentication.
    pub auth: Auth,
    /// Health check (v0.2).
    #[serde(default)]
    pub health: Option<Health>,
    /// Defaults for all tools.
    #[serde(default)]
    pub defaults: Option<Defaults>,
    /// Named types (JSON Schema subset).
    #[serde(default)]
    pub types: IndexMap<String, Value>,
    /// The tools.
    pub tools: IndexMap<String, Tool>,
    /// Composite tools (server-side code; not generated as client methods).
    #[serde(default)]
    pub composites: IndexMap<String, Composite>,
    /// Workflow examples.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Coverage metadata.
    #[serde(default)]
    pub coverage: Option<Coverage>,
    /// Per-tool hints: tool → key → scalar.
    #[serde(default)]
    pub hints: IndexMap<String, IndexMap<String, Scalar>>,
    /// Setup instructions.
    #[serde(default)]
    pub setup: Option<Setup>,
}

/// A scalar hint value.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    /// Text.
    String(String),
    /// Boolean.
    Bool(bool),
    /// Number.
    Number(serde_json::Number),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::String(s) => f.write_str(s),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Number(n) => write!(f, "{n}"),
        }
    }
}

/// `auth.type`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    /// Token in a header.
    Bearer,
    /// HTTP Basic.
    Basic,
    /// OAuth 2.0.
    Oauth2,
    /// Login → token → use.
    Session,
    /// API key (`apikey` is canonical in v0.2).
    #[serde(alias = "api_key")]
    Apikey,
}

/// `auth.inject_into`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InjectInto {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
}

/// `auth.flow`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthFlow {
    /// Client credentials.
    ClientCredentials,
    /// Refresh token.
    RefreshToken,
    /// JWT bearer (RFC 7523).
    JwtBearer,
    /// Authorization code.
    AuthorizationCode,
}

/// `auth.token_auth`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// Credentials in the POST body.
    Post,
    /// HTTP Basic.
    Basic,
}

/// The `auth` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Authentication type.
    #[serde(rename = "type")]
    pub kind: AuthType,
    /// Credential reference.
    #[serde(default)]
    pub credential: Option<String>,
    /// Where the credential goes.
    #[serde(default)]
    pub inject_into: Option<InjectInto>,
    /// Header name.
    #[serde(default)]
    pub header_name: Option<String>,
    /// Value prefix.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Query parameter for api keys.
    #[serde(default)]
    pub query_param: Option<String>,
    /// Basic username credential.
    #[serde(default)]
    pub username_credential: Option<String>,
    /// Basic password credential.
    #[serde(default)]
    pub password_credential: Option<String>,
    /// OAuth2 flow.
    #[serde(default)]
    pub flow: Option<AuthFlow>,
    /// OAuth2 token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// OAuth2 authorize endpoint.
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// OAuth2 client id credential.
    #[serde(default)]
    pub client_id_credential: Option<String>,
    /// OAuth2 client secret credential.
    #[serde(default)]
    pub client_secret_credential: Option<String>,
    /// OAuth2 refresh token credential.
    #[serde(default)]
    pub refresh_token_credential: Option<String>,
    /// Refresh tokens rotate.
    #[serde(default)]
    pub rotates_refresh_token: Option<bool>,
    /// Extra authorize parameters.
    #[serde(default)]
    pub authorization_params: IndexMap<String, String>,
    /// Redirect URI.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Client authentication on the token request.
    #[serde(default)]
    pub token_auth: Option<TokenAuth>,
    /// Service-account key credential.
    #[serde(default)]
    pub service_account_credential: Option<String>,
    /// Impersonation subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// OAuth2 scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Token cache key.
    #[serde(default)]
    pub token_cache_key: Option<String>,
    /// Refresh window.
    #[serde(default)]
    pub refresh_before_expiry: Option<String>,
    /// Session login.
    #[serde(default)]
    pub login: Option<SessionLogin>,
    /// Session header injection.
    #[serde(default)]
    pub inject: Vec<SessionInject>,
    /// Session refresh.
    #[serde(default)]
    pub refresh: Option<SessionRefresh>,
}

/// Session login request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionLogin {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Body (credential references).
    #[serde(default)]
    pub body: Option<Value>,
    /// Values extracted from the answer: name → JSONPath.
    #[serde(default)]
    pub extract: IndexMap<String, String>,
}

/// Session header injection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInject {
    /// Header name.
    pub header: String,
    /// Value template.
    pub value: String,
}

/// Session refresh.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRefresh {
    /// Trigger.
    #[serde(default)]
    pub trigger: Option<String>,
    /// Action.
    #[serde(default)]
    pub action: Option<String>,
}

/// `health` (v0.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// A tool to call.
    #[serde(default)]
    pub tool: Option<String>,
    /// Or a method…
    #[serde(default)]
    pub method: Option<String>,
    /// …and a path.
    #[serde(default)]
    pub path: Option<String>,
    /// Expected status.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// Expected JSONPath.
    #[serde(default)]
    pub expect_path: Option<String>,
    /// Timeout.
    #[serde(default)]
    pub timeout: Option<String>,
}

/// `defaults`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Default headers.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// Default request content type (v0.2).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Dotted body keys nest into objects.
    #[serde(default)]
    pub nest_body_keys: Option<bool>,
    /// Default pagination.
    #[serde(default)]
    pub pagination: Option<Pagination>,
    /// Default errors.
    #[serde(default)]
    pub errors: Option<Errors>,
    /// Default response handling.
    #[serde(default)]
    pub response: Option<Response>,
}

/// `pagination.strategy`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStrategy {
    /// Cursor.
    Cursor,
    /// Offset.
    Offset,
    /// Page number.
    Page,
    /// RFC 8288 `Link` header.
    LinkHeader,
}

/// `pagination.behavior`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaginationBehavior {
    /// Fetch all pages.
    Auto,
    /// The caller pages.
    Expose,
}

/// A pagination object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    /// Strategy.
    #[serde(default)]
    pub strategy: Option<PaginationStrategy>,
    /// Request-side parameters.
    #[serde(default)]
    pub request: Option<PaginationRequest>,
    /// Response-side locations.
    #[serde(default)]
    pub response: Option<PaginationResponse>,
    /// Behaviour.
    #[serde(default)]
    pub behavior: Option<PaginationBehavior>,
    /// Page cap.
    #[serde(default)]
    pub max_pages: Option<i64>,
}

/// `pagination.request`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginationRequest {
    /// Cursor parameter.
    #[serde(default)]
    pub cursor_param: Option<String>,
    /// Page parameter.
    #[serde(default)]
    pub page_param: Option<String>,
    /// Offset parameter.
    #[serde(default)]
    pub offset_param: Option<String>,
    /// Limit parameter.
    #[serde(default)]
    pub limit_param: Option<String>,
    /// Default limit.
    #[serde(default)]
    pub limit_default: Option<i64>,
}

/// `pagination.response`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginationResponse {
    /// Next cursor JSONPath.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Has-more JSONPath.
    #[serde(default)]
    pub has_more: Option<String>,
    /// Total pages header.
    #[serde(default)]
    pub total_pages_header: Option<String>,
    /// Total count header.
    #[serde(default)]
    pub total_count_header: Option<String>,
}

/// Tool-level pagination: `none` or an object that replaces the default.
#[derive(Debug, Clone)]
pub enum ToolPagination {
    /// Pagination disabled.
    None,
    /// Replaces `defaults.pagination`.
    Config(Box<Pagination>),
}

impl<'de> Deserialize<'de> for ToolPagination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "none" => Ok(ToolPagination::None),
            v @ Value::Object(_) => Pagination::deserialize(v)
                .map(|p| ToolPagination::Config(Box::new(p)))
                .map_err(de::Error::custom),
            other => Err(de::Error::custom(format!(
                "expected `none` or a pagination object, found {other}"
            ))),
        }
    }
}

/// `errors.format`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorFormat {
    /// JSON.
    Json,
    /// Plain text.
    Text,
    /// XML.
    Xml,
}

/// Retry backoff.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Same delay.
    Constant,
    /// Linear growth.
    Linear,
    /// Doubling.
    Exponential,
}

/// `errors.retry_strategy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryStrategy {
    /// Maximum retries.
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Backoff shape.
    #[serde(default)]
    pub backoff: Option<Backoff>,
    /// Initial delay (`2s`, `500ms`).
    #[serde(default)]
    pub initial_delay: Option<String>,
}

/// `errors.rate_limit`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Remaining-quota header.
    #[serde(default)]
    pub header: Option<String>,
    /// Retry-after header.
    #[serde(default)]
    pub retry_after_header: Option<String>,
}

/// An `errors` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Errors {
    /// Body format.
    #[serde(default)]
    pub format: Option<ErrorFormat>,
    /// Message JSONPath.
    #[serde(default)]
    pub message_path: Option<String>,
    /// Code JSONPath.
    #[serde(default)]
    pub code_path: Option<String>,
    /// Retryable statuses.
    #[serde(default)]
    pub retry_on: Vec<u16>,
    /// Terminal statuses.
    #[serde(default)]
    pub terminal: Vec<u16>,
    /// Retry strategy.
    #[serde(default)]
    pub retry_strategy: Option<RetryStrategy>,
    /// Rate limit headers.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Status → semantic code (v0.2).
    #[serde(default)]
    pub map: IndexMap<String, String>,
}

/// `response.stream_handling`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StreamHandling {
    /// Collect items.
    Collect,
    /// Skip.
    Skip,
}

/// A `response` object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Result JSONPath.
    #[serde(default)]
    pub result_path: Option<String>,
    /// Metadata JSONPath.
    #[serde(default)]
    pub metadata_path: Option<String>,
    /// jq transform (ToolMesh-side; documented, not applied by the SDK).
    #[serde(default)]
    pub transform: Option<String>,
    /// Item cap (ToolMesh-side; an SDK never truncates silently).
    #[serde(default)]
    pub max_items: Option<i64>,
    /// jq override allowed.
    #[serde(default)]
    pub allow_jq_override: Option<bool>,
    /// Redacted JSONPaths (v0.2).
    #[serde(default)]
    pub redact: Vec<String>,
    /// `file_url` output type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// File URL TTL.
    #[serde(default)]
    pub ttl: Option<String>,
    /// Binary body.
    #[serde(default)]
    pub binary: Option<bool>,
    /// Content type of the answer.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Long-lived stream.
    #[serde(default)]
    pub streaming: Option<bool>,
    /// Stream handling.
    #[serde(default)]
    pub stream_handling: Option<StreamHandling>,
    /// Stream duration cap.
    #[serde(default)]
    pub max_duration: Option<String>,
}

/// HTTP methods DADL allows.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum Method {
    /// GET
    #[serde(rename = "GET")]
    Get,
    /// HEAD (v0.2)
    #[serde(rename = "HEAD")]
    Head,
    /// POST
    #[serde(rename = "POST")]
    Post,
    /// PUT
    #[serde(rename = "PUT")]
    Put,
    /// PATCH
    #[serde(rename = "PATCH")]
    Patch,
    /// DELETE
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the upper-case name, so that code reading the IR can
/// write `op.http_method == "GET"`.
impl PartialEq<&str> for Method {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `idempotency.generate`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IdempotencyGenerate {
    /// Random UUID v4.
    UuidV4,
}

/// `idempotency` (v0.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Idempotency {
    /// Header name.
    pub header: String,
    /// Generator.
    #[serde(default)]
    pub generate: Option<IdempotencyGenerate>,
}

/// `deprecated: true | false | "reason"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deprecated {
    /// `true` / `false`.
    Flag(bool),
    /// Deprecated, with a reason.
    Reason(String),
}

impl<'de> Deserialize<'de> for Deprecated {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Deprecated::Flag(b)),
            Value::String(s) => Ok(Deprecated::Reason(s)),
            other => Err(de::Error::custom(format!(
                "expected a boolean or a reason string, found {other}"
            ))),
        }
    }
}

/// A tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// HTTP method.
    pub method: Method,
    /// Path template.
    pub path: String,
    /// Access classification.
    #[serde(default)]
    pub access: Option<String>,
    /// Description.
    pub description: String,
    /// Parameters.
    #[serde(default)]
    pub params: IndexMap<String, Param>,
    /// Request content type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Nest dotted body keys.
    #[serde(default)]
    pub nest_body_keys: Option<bool>,
    /// Max upload size.
    #[serde(default)]
    pub max_body_size: Option<String>,
    /// Tools to call first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Response handling (replaces the default).
    #[serde(default)]
    pub response: Option<Response>,
    /// Pagination (replaces the default).
    #[serde(default)]
    pub pagination: Option<ToolPagination>,
    /// Errors (replaces the default).
    #[serde(default)]
    pub errors: Option<Errors>,
    /// Result type (v0.2).
    #[serde(default)]
    pub returns: Option<Value>,
    /// Idempotency key (v0.2).
    #[serde(default)]
    pub idempotency: Option<Idempotency>,
    /// Deprecation (v0.2).
    #[serde(default)]
    pub deprecated: Option<Deprecated>,
    /// Retries allowed although unsafe (v0.2).
    #[serde(default)]
    pub retry_unsafe: Option<bool>,
    /// Successor (v0.2).
    #[serde(default)]
    pub replaced_by: Option<String>,
    /// Extension `x-kind`: the shape of the exchange, which with `returns`
    /// gives the typed answer (see `ToolKind`).
    #[serde(default, rename = "x-kind")]
    pub x_kind: Option<ToolKind>,
    /// Extension `x-method`: the name of the generated service method, in
    /// place of the tool's name without the resource noun.
    #[serde(default, rename = "x-method")]
    pub x_method: Option<String>,
    /// Extension `x-event-type`: on a collection, the type name under which
    /// its objects appear on the API's event stream (XO: `VM`, `host`).
    #[serde(default, rename = "x-event-type")]
    pub x_event_type: Option<String>,
}

/// Extension `x-kind` of a tool (documented in `dadl/EXTENSIONS.md`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// A list of objects (`returns: {type: array, items: Model}`) that
    /// answers references by default, objects for `fields`, one object per
    /// line for `ndjson`, and a table for `markdown`.
    Collection,
    /// An asynchronous action answered with a task; `returns` is the
    /// task's result.
    Action,
    /// Creates an object; `returns` is the id type of the new object.
    Create,
    /// Answers nothing worth reading.
    Empty,
}

/// `param.type`, also the IR's parameter type (with its Rust type).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// Text: `String`.
    String,
    /// Integer: `i64`.
    Integer,
    /// Number: `f64`.
    Number,
    /// Boolean: `bool`.
    Boolean,
    /// Array: `Vec<serde_json::Value>`.
    Array,
    /// Object: `serde_json::Map<String, Value>`.
    Object,
    /// A URL string (DADL `file_url`).
    FileUrl,
}

/// `param.in`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ParamIn {
    /// Path.
    Path,
    /// Query.
    Query,
    /// Header.
    Header,
    /// Body.
    Body,
}

/// A parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// Placement.
    #[serde(rename = "in")]
    pub location: ParamIn,
    /// Required.
    #[serde(default)]
    pub required: bool,
    /// Default value.
    #[serde(default)]
    pub default: Option<Value>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Extension `x-type`: the `types` entry that the value is (an id type
    /// or a string enum; for `type: array`, the type of the items).
    #[serde(default, rename = "x-type")]
    pub x_type: Option<String>,
}

/// A composite tool parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeParam {
    /// Type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// Required.
    #[serde(default)]
    pub required: bool,
    /// Default.
    #[serde(default)]
    pub default: Option<Value>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A composite tool (server-side code, documentation only for an SDK).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Composite {
    /// Description.
    pub description: String,
    /// Access classification.
    #[serde(default)]
    pub access: Option<String>,
    /// Delegated tools.
    #[serde(default)]
    pub delegates: Vec<String>,
    /// Parameters.
    #[serde(default)]
    pub params: IndexMap<String, CompositeParam>,
    /// Code.
    pub code: String,
    /// Timeout.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Tools called.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// A workflow example.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Code (JavaScript against `api.*`).
    pub code: String,
}

/// `coverage`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// Tools defined.
    #[serde(default)]
    pub endpoints: Option<i64>,
    /// Endpoints of the API.
    #[serde(default)]
    pub total_endpoints: Option<i64>,
    /// Percentage.
    #[serde(default)]
    pub percentage: Option<i64>,
    /// Covered areas.
    #[serde(default)]
    pub focus: Option<String>,
    /// Missing areas.
    #[serde(default)]
    pub missing: Option<String>,
    /// Review date.
    #[serde(default)]
    pub last_reviewed: Option<String>,
}

/// `setup`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Credential steps.
    #[serde(default)]
    pub credential_steps: Vec<String>,
    /// Env var.
    #[serde(default)]
    pub env_var: Option<String>,
    /// backends.yaml example.
    #[serde(default)]
    pub backends_yaml: Option<String>,
    /// Required scopes.
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Optional scopes.
    #[serde(default)]
    pub optional_scopes: Vec<String>,
    /// Docs URL.
    #[serde(default)]
    pub docs_url: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}
