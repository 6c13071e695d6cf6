//! The command table: what `xo-codegen` generates into
//! `OUT_DIR/xo_cli_table.rs` (one entry per resource and operation of the
//! DADL file), and the types it is made of.

use xo_sdk::runtime::{Id, OperationSpec, RawResponse};

/// A resource: a path segment of the API and its operations (`xo vms …`).
#[derive(Debug)]
pub struct Resource {
    /// Command name, the path segment (`vm-snapshots`).
    pub name: &'static str,
    /// Its operations, in DADL order.
    pub operations: &'static [Operation],
}

/// One operation of the API: one subcommand (`xo vms start`).
#[derive(Debug)]
pub struct Operation {
    /// Command name: the SDK's method name, kebab-cased.
    pub name: &'static str,
    /// The DADL tool name.
    pub tool: &'static str,
    /// Help text: the DADL description, then method, path, access.
    pub about: &'static str,
    /// The SDK's wire table of the operation (the same the typed builder
    /// sends with).
    pub spec: &'static OperationSpec,
    /// What the answer is and how the CLI shows it.
    pub answer: Answer,
    /// Parameters, in DADL order (the ones the CLI sets itself left out).
    pub params: &'static [Param],
}

/// What an operation answers, as the SDK types it.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// A collection of objects (`fields`/`filter`/`limit`).
    Collection {
        /// The objects have a `name_label`.
        by_name: bool,
    },
    /// A task, which the CLI follows unless `--no-wait`.
    Action,
    /// The new object's id, read as the SDK reads it.
    Create(fn(&RawResponse) -> xo_sdk::Result<String>),
    /// Nothing worth reading.
    Empty,
    /// A JSON document.
    Json,
    /// A binary download (exports), saved to a file or written to stdout.
    Bytes,
    /// A long-lived stream, copied to stdout.
    Stream,
}

/// Where a parameter goes on the wire.
// Not every variant occurs in the XO file; the generator knows all of DADL.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    /// A path segment.
    Path,
    /// The query string.
    Query,
    /// A header.
    Header,
    /// A JSON body field, or (for [`Value::File`]) the raw body.
    Body,
}

/// How a parameter's text is parsed.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy)]
pub enum Value {
    /// Any non-empty text.
    String,
    /// An object id (the SDK's id type name).
    Id(&'static str),
    /// A 64-bit integer.
    Integer,
    /// A number.
    Number,
    /// `true` or `false` (a bare flag is `true`).
    Boolean,
    /// One of these wire values.
    Enum(&'static [&'static str]),
    /// A JSON array, or values separated by commas (sent as strings).
    List,
    /// A JSON document.
    Json,
    /// A file, sent as the raw request body.
    File,
}

/// One parameter: one argument or flag of the command.
#[derive(Debug)]
pub struct Param {
    /// Wire name (empty for the raw body).
    pub wire: &'static str,
    /// Flag or argument name (kebab-case).
    pub flag: &'static str,
    /// Where it goes.
    pub location: Where,
    /// How its text is parsed.
    pub value: Value,
    /// Whether the command needs it.
    pub required: bool,
    /// A positional argument rather than a `--flag`.
    pub positional: bool,
    /// Help text from the DADL description.
    pub help: &'static str,
}

/// The id a create answered, as `send()` of the SDK's builder reads it
/// (body `{"id"}`, a string, or `Location`), typed as the operation's id.
fn created<I: Id>(response: &RawResponse) -> xo_sdk::Result<String> {
    response.created::<I>().map(|id| id.as_str().to_owned())
}

include!(concat!(env!("OUT_DIR"), "/xo_cli_table.rs"));

/// The operation `name` of the resource `resource`.
pub fn find(resource: &str, name: &str) -> Option<&'static Operation> {
    RESOURCES
        .iter()
        .find(|r| r.name == resource)?
        .operations
        .iter()
        .find(|o| o.name == name)
}
