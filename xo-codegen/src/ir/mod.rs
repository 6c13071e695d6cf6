//! The intermediate representation between the DADL model and the emitter.
//!
//! Everything the emitter needs is resolved here — Rust names, parameter
//! placement, effective error policy (tool override or defaults), body and
//! response kinds — so that the emitter is a pure function of the IR and the
//! IR can be printed (`xo-codegen ir`) and checked by other tools.

use serde::{Serialize, Serializer};

pub use crate::model::{Backoff, Method, PaginationBehavior, PaginationStrategy, ParamType};

pub mod types;

/// A whole API: one DADL file (plus overlay).
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// `backend.name`.
    pub name: String,
    /// `backend.version`.
    pub version: Option<String>,
    /// `backend.description`.
    pub description: String,
    /// Path part of `backend.base_url` (`/rest/v0`), empty when absent or
    /// when the URL has `{VARIABLE}` placeholders.
    pub base_path: String,
    /// `backend.base_url` when it has `{VARIABLE}` placeholders: the
    /// generated client's builder takes one argument per variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url_template: Option<BaseUrlTemplate>,
    /// Credential injection.
    pub auth: Auth,
    /// Resources in order of first appearance.
    pub resources: Vec<Resource>,
    /// Operations in file order.
    pub operations: Vec<Operation>,
    /// Data types from DADL `types` (nested inline types after their parent).
    pub types: Vec<crate::ir::types::TypeDef>,
    /// Problems that do not stop generation (printed by `check`).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// A `base_url` with `{VARIABLE}` placeholders.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BaseUrlTemplate {
    /// The URL as written in the file.
    pub url: String,
    /// The variables in order of appearance.
    pub variables: Vec<BaseUrlVariable>,
}

/// One `{VARIABLE}` of a base URL template.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BaseUrlVariable {
    /// Name between the braces.
    pub name: String,
    /// Rust name of the builder argument.
    pub rust_name: String,
    /// Where it stands, which decides how its value is checked.
    pub place: UrlPlace,
}

/// Where a base URL variable stands.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UrlPlace {
    /// The whole origin, opening the URL (`{INSTANCE_URL}/api/v1`): an
    /// absolute http(s) URL, a path prefix allowed.
    Origin,
    /// In the host name (`https://{tenant}.example.com`): letters, digits,
    /// `-` and `.` only.
    Host,
    /// The whole port (`http://localhost:{port}`): digits only.
    Port,
    /// In the path: percent-encoded as (part of) one segment.
    Path,
}

/// How credentials are injected.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Auth {
    /// Nothing is sent.
    None,
    /// A token in a header behind a prefix.
    Header {
        /// Header name.
        name: String,
        /// Prefix before the token.
        prefix: String,
    },
    /// A token in a query parameter.
    Query {
        /// Parameter name.
        param: String,
    },
    /// HTTP Basic.
    Basic,
}

/// A group of operations sharing the first path segment.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    /// Rust module name (`vm_snapshots`).
    pub module: String,
    /// Service type name (`VmSnapshots`).
    pub service_type: String,
    /// The path segment it was grouped by (`vm-snapshots`).
    pub segment: String,
    /// Indexes into [`Api::operations`].
    pub operations: Vec<usize>,
}

/// One DADL tool.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// DADL tool name.
    pub tool: String,
    /// Module of its resource.
    pub module: String,
    /// Method on the resource service (`list_alarms`).
    pub method_name: String,
    /// Request builder type (`ListVmAlarms`).
    pub type_name: String,
    /// Name of the `static` spec table (`LIST_VM_ALARMS`).
    pub spec_name: String,
    /// HTTP method (serialized upper case).
    pub http_method: Method,
    /// Path template relative to the base.
    pub path: String,
    /// Parameters in declaration order.
    pub params: Vec<Param>,
    /// Request body kind.
    pub request_body: RequestBody,
    /// Response kind.
    pub response: Response,
    /// Access classification.
    pub access: Option<Access>,
    /// Description.
    pub description: String,
    /// Per-tool hints (key, value) in file order.
    pub hints: Vec<(String, String)>,
    /// Deprecation note (`Some("")` when deprecated without a reason).
    pub deprecated: Option<String>,
    /// Successor tool.
    pub replaced_by: Option<String>,
    /// Tools that should be called first.
    pub depends_on: Vec<String>,
    /// Effective error policy.
    pub errors: ErrorPolicy,
    /// Effective pagination, if any.
    pub pagination: Option<Pagination>,
    /// Idempotency header.
    pub idempotency_header: Option<String>,
    /// DADL `retry_unsafe`.
    pub retry_unsafe: bool,
    /// Default headers (`defaults.headers`).
    pub default_headers: Vec<(String, String)>,
    /// DADL v0.2 `returns`, as written (type name or inline schema).
    pub returns: Option<serde_json::Value>,
    /// The Rust type of the result, when `returns` declares one.
    pub result: Option<crate::ir::types::TypeRef>,
    /// The typed shape of the answer (`x-kind`), set by
    /// [`crate::lower::kinds::kind`].
    pub kind: Kind,
}

/// The typed shape of an operation's answer (DADL extension `x-kind`, see
/// `dadl/EXTENSIONS.md`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// The answer is `result` (untyped JSON when `returns` is absent), a
    /// byte stream for binary and streaming responses.
    Plain,
    /// A collection of objects of the struct `item`.
    Collection {
        /// Rust name of the item struct.
        item: String,
        /// The id type of its objects (the item's `id` field).
        id: crate::ir::types::TypeRef,
        /// The tool has a `markdown` parameter.
        markdown: bool,
        /// The item has a `name_label` string, so lookups by name work.
        by_name: bool,
        /// The type name of its objects on the event stream
        /// (`x-event-type`), when they appear there.
        #[serde(skip_serializing_if = "Option::is_none")]
        event_type: Option<String>,
    },
    /// An action answered with a task; `output` is the task's result
    /// (`None`: nothing).
    Action {
        /// The task's result type.
        output: Option<crate::ir::types::TypeRef>,
    },
    /// Creates an object and answers its id.
    Create {
        /// The id type.
        id: crate::ir::types::TypeRef,
    },
    /// Answers nothing worth reading.
    Empty,
}

impl Kind {
    /// Whether the answer is typed: everything but `Plain` JSON without a
    /// declared result.
    pub fn is_typed(
        &self,
        op_result: Option<&crate::ir::types::TypeRef>,
        response: &Response,
    ) -> bool {
        match self {
            Kind::Plain => {
                !matches!(response, Response::Json)
                    || op_result.is_some_and(|r| *r != crate::ir::types::TypeRef::Value)
            }
            _ => true,
        }
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Path placeholder.
    Path,
    /// Query string.
    Query,
    /// Request header.
    Header,
    /// JSON body field.
    Body,
}

/// One parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    /// Wire name.
    pub name: String,
    /// Rust identifier (setter / argument name).
    pub rust_name: String,
    /// Type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// Placement.
    #[serde(rename = "in")]
    pub location: Location,
    /// Required (path params always are).
    pub required: bool,
    /// Description.
    pub description: Option<String>,
    /// Server-side default, as documented.
    pub default: Option<serde_json::Value>,
    /// The generated type of the value (`x-type`), instead of the plain
    /// Rust type of `ty`; for an array, of its items.
    pub value_type: Option<crate::ir::types::TypeRef>,
}

/// Request body kind.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestBody {
    /// No body.
    None,
    /// A JSON object of the body params.
    Json,
    /// A raw caller-supplied body.
    Raw {
        /// Content type.
        content_type: String,
    },
    /// `application/x-www-form-urlencoded`: the body params as form fields.
    Form,
    /// `multipart/form-data`: `file_url` body params as file parts (a
    /// runtime `FilePart`), the other body params as text parts.
    Multipart,
    /// Any other content type with one `in: body` param: that param's
    /// value, as text, is the whole body.
    Text {
        /// Content type.
        content_type: String,
        /// DADL name of the param.
        param: String,
    },
}

/// Response kind.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// JSON.
    Json,
    /// Binary download.
    Binary {
        /// Declared content type.
        content_type: Option<String>,
    },
    /// Long-lived stream.
    Streaming,
}

/// Effective error and retry policy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// JSONPath of the message.
    pub message_path: Option<String>,
    /// JSONPath of the code.
    pub code_path: Option<String>,
    /// Retryable statuses.
    pub retry_on: Vec<u16>,
    /// Terminal statuses.
    pub terminal: Vec<u16>,
    /// Maximum retries.
    pub max_retries: u32,
    /// Growth of the delay between retries.
    pub backoff: Backoff,
    /// Initial delay in milliseconds.
    pub initial_delay_ms: u64,
    /// Status → semantic code overrides.
    pub status_map: Vec<(u16, String)>,
    /// Retry-After header name.
    pub retry_after_header: Option<String>,
}

/// Effective pagination.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pagination {
    /// Strategy (`None`: the file names none; serialized `unspecified`).
    #[serde(serialize_with = "strategy_or_unspecified")]
    pub strategy: Option<PaginationStrategy>,
    /// Who walks the pages.
    pub behavior: Option<PaginationBehavior>,
    /// Page size param.
    pub limit_param: Option<String>,
    /// Default page size.
    pub limit_default: Option<i64>,
    /// Page cap.
    pub max_pages: Option<i64>,
}

fn strategy_or_unspecified<S: Serializer>(
    strategy: &Option<PaginationStrategy>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match strategy {
        Some(st) => st.serialize(s),
        None => s.serialize_str("unspecified"),
    }
}

/// DADL `access`: the four classes the spec names, or any other word a file
/// uses (the spec leaves the field open), kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `read`: no side effects.
    Read,
    /// `write`: creates or changes state.
    Write,
    /// `admin`: needs privileged credentials.
    Admin,
    /// `dangerous`: destructive or irreversible.
    Dangerous,
    /// Another classification, as written.
    Other(String),
}

impl Access {
    /// Classify the text of a DADL `access` field.
    pub fn parse(text: &str) -> Access {
        match text {
            "read" => Access::Read,
            "write" => Access::Write,
            "admin" => Access::Admin,
            "dangerous" => Access::Dangerous,
            other => Access::Other(other.to_owned()),
        }
    }

    /// The text as the DADL file writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Admin => "admin",
            Access::Dangerous => "dangerous",
            Access::Other(other) => other,
        }
    }
}

/// Serialized as the DADL text, as `xo-codegen ir` always printed it.
impl Serialize for Access {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
