//! Typed collections over XO's list endpoints.
//!
//! XO answers a collection with an array of href strings by default, with
//! objects holding only the requested `fields` (plus `href`) when asked,
//! and with one JSON value per line when `ndjson=true`. It never pages: a
//! list is complete unless the caller sets `limit`. This module types the
//! three shapes on top of the generated list builders:
//!
//! ```no_run
//! # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
//! use futures::TryStreamExt;
//! use xo_sdk::prelude::*;
//!
//! // ["/rest/v0/vms/…", …] as typed references (`Href<VmId>`)
//! let refs = client.vms().list().send().await?;
//! let first: Option<VmId> = refs.first().map(|r| r.id());
//! // objects with two fields (every other field is `None`)
//! let vms = client
//!     .vms()
//!     .list()
//!     .select([Vm::NAME_LABEL, Vm::POWER_STATE])
//!     .filter(Filter::eq(Vm::POWER_STATE, "Running"))
//!     .send()
//!     .await?;
//! // every VM, whole, one at a time in constant memory
//! let mut stream = client.vms().list().all_fields().stream();
//! while let Some(vm) = stream.try_next().await? {
//!     println!("{:?}", vm.name_label);
//! }
//! # let _ = (first, vms);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::runtime::{ByteStream, Error, Field, Href, Id, NdjsonStream, Request, Result};
use crate::xo::Filter;

/// A generated list builder of an XO collection (`client.vms().list()`,
/// `client.hosts().list_alarms(id)`, …), with its item and id types.
///
/// Implemented by the generator for every tool that the API description
/// declares a collection (`x-kind: collection`); the builders also have
/// these methods as inherent methods, so the trait is only needed in
/// generic code.
pub trait Collection: Sized + Send + 'static {
    /// The object type of the collection.
    type Item: DeserializeOwned + Send + 'static;
    /// The id type of its objects.
    type Id: Id;

    /// Set the `fields` query parameter (used by [`select`](Self::select)).
    #[doc(hidden)]
    fn set_fields(self, fields: String) -> Self;

    /// Set `ndjson=true` (used by [`Typed::stream`]).
    #[doc(hidden)]
    fn set_ndjson(self) -> Self;

    /// Set the `filter` query parameter.
    #[doc(hidden)]
    fn set_filter(self, filter: String) -> Self;

    /// Set the `limit` query parameter.
    #[doc(hidden)]
    fn set_limit(self, limit: i64) -> Self;

    /// The runtime request with every argument applied.
    #[doc(hidden)]
    fn request(self) -> Request;

    /// The default answer: one typed reference per object.
    fn refs(self) -> impl Future<Output = Result<Vec<Href<Self::Id>>>> + Send {
        self.request().send_json()
    }

    /// Ask for these fields only. The objects hold exactly the selected
    /// fields (plus `href`): a field you did not select is always `None`,
    /// and a selected field is `None` only when XO did not send it (the
    /// object has no such property, as `$container` on a template).
    fn select(self, fields: impl IntoIterator<Item = Field<Self::Item>>) -> Typed<Self> {
        let names: Vec<&'static str> = fields.into_iter().map(|f| f.name()).collect();
        Typed {
            builder: self.set_fields(names.join(",")),
            fields: Some(names),
        }
    }

    /// Ask for whole objects (`fields=*`): every field XO has is sent.
    fn all_fields(self) -> Typed<Self> {
        Typed {
            builder: self.set_fields("*".to_owned()),
            fields: None,
        }
    }
}

/// A collection whose objects have a `name_label` (implemented by the
/// generator only for those, so a lookup by name on a collection named
/// otherwise, such as users or ACL roles, does not compile).
pub trait ByName: Collection {
    /// The one object whose `name_label` is exactly `name`, whole.
    ///
    /// XO's filter `name_label:x` matches substrings, so this asks XO for
    /// the candidates (the name quoted, so no character of it acts as
    /// filter syntax; any filter set before is replaced) and keeps the
    /// exact matches. No match or several is [`Error::Lookup`].
    fn find_by_name(self, name: &str) -> impl Future<Output = Result<Self::Item>> + Send {
        let name = name.to_owned();
        let request = self
            .set_filter(Filter::eq("name_label", name.as_str()).to_string())
            .set_fields("*".to_owned())
            .request();
        async move {
            let response = request.send_response().await?;
            let candidates: Vec<Value> = response.json()?;
            let mut exact: Vec<Value> = candidates
                .into_iter()
                .filter(|o| o.get("name_label").and_then(Value::as_str) == Some(name.as_str()))
                .collect();
            if exact.len() != 1 {
                return Err(Error::Lookup {
                    site: response.site().clone(),
                    name,
                    found: exact.len(),
                });
            }
            let object = exact.pop().expect("one match");
            serde_json::from_value(object).map_err(|e| Error::Decode {
                site: response.site().clone(),
                reason: crate::runtime::wire::bound(e.to_string()),
                excerpt: crate::runtime::wire::excerpt(&response.body),
            })
        }
    }
}

/// A collection request that answers objects (after
/// [`Collection::select`] or [`Collection::all_fields`]).
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await` or `.stream()`"]
pub struct Typed<C> {
    builder: C,
    /// The selected wire names; `None` for every field (`*`).
    fields: Option<Vec<&'static str>>,
}

impl<C: Collection> Typed<C> {
    /// Only the objects that match this XO filter (a [`Filter`] or its
    /// text); the same as the builder's own `filter`.
    pub fn filter(self, filter: impl Into<String>) -> Self {
        Typed {
            builder: self.builder.set_filter(filter.into()),
            fields: self.fields,
        }
    }

    /// At most `limit` objects (XO truncates; it has no paging).
    pub fn limit(self, limit: i64) -> Self {
        Typed {
            builder: self.builder.set_limit(limit),
            fields: self.fields,
        }
    }

    /// The selected fields' wire names, `None` after
    /// [`all_fields`](Collection::all_fields).
    pub fn fields(&self) -> Option<&[&'static str]> {
        self.fields.as_deref()
    }

    /// The objects, in one answer.
    pub async fn send(self) -> Result<Vec<C::Item>> {
        self.builder.request().send_json().await
    }

    /// The objects decoded into the caller's own type (the escape hatch).
    pub async fn send_as<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        self.builder.request().send_json().await
    }

    /// The objects one by one, decoded line by line from XO's NDJSON answer
    /// in memory bounded by the largest object. The request is sent on the
    /// first poll; its failure is the stream's first (and last) item.
    pub fn stream(self) -> ObjectStream<C::Item> {
        self.stream_as()
    }

    /// [`stream`](Self::stream) into the caller's own type.
    pub fn stream_as<T: DeserializeOwned + Send + 'static>(self) -> ObjectStream<T> {
        let request = self.builder.set_ndjson().request();
        ObjectStream {
            state: State::Sending(Box::pin(request.send_stream())),
        }
    }

    /// The underlying builder, to set more parameters.
    pub fn into_inner(self) -> C {
        self.builder
    }
}

type Sending = Pin<Box<dyn Future<Output = Result<ByteStream>> + Send>>;

enum State<T> {
    Sending(Sending),
    Streaming(NdjsonStream<T>),
    Done,
}

/// The objects of a collection, decoded one by one from XO's NDJSON answer
/// (see [`Typed::stream`]). A hand-written state machine rather than
/// combinators: each object (a model is ~2 KB) is moved as few times as
/// possible on its way to the caller.
pub struct ObjectStream<T> {
    state: State<T>,
}

impl<T> fmt::Debug for ObjectStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Sending(_) => "sending",
            State::Streaming(_) => "streaming",
            State::Done => "done",
        };
        f.debug_struct("ObjectStream")
            .field("state", &state)
            .finish()
    }
}

// No field is pinned structurally: the future is boxed, the NDJSON stream
// is Unpin.
impl<T> Unpin for ObjectStream<T> {}

impl<T: DeserializeOwned> Stream for ObjectStream<T> {
    type Item = Result<T>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match &mut self.state {
                State::Streaming(lines) => {
                    let item = Pin::new(lines).poll_next(cx);
                    if let Poll::Ready(None) = item {
                        self.state = State::Done;
                    }
                    return item;
                }
                State::Sending(fut) => match fut.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(body)) => self.state = State::Streaming(body.ndjson()),
                    Poll::Ready(Err(e)) => {
                        self.state = State::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

/// A collection that XO can render as a Markdown table (`markdown=true`).
pub trait MarkdownTable: Collection {
    /// Set `markdown=true`.
    #[doc(hidden)]
    fn set_markdown(self) -> Self;

    /// The collection as XO's Markdown table (`text/markdown`) of whole
    /// objects, for humans and LLM prompts. It honours `filter` and
    /// `limit`; [`Typed::markdown`] gives a table of selected fields.
    ///
    /// `fields=*` is sent: without `fields` XO answers one href per line,
    /// not a table (xo-server 5.207.2).
    fn markdown(self) -> impl Future<Output = Result<String>> + Send {
        let request = self.set_fields("*".into()).set_markdown().request();
        async move { request.send_stream().await?.text().await }
    }
}

impl<C: MarkdownTable> Typed<C> {
    /// The selected fields as XO's Markdown table, one column per field
    /// (see [`MarkdownTable::markdown`]).
    pub async fn markdown(self) -> Result<String> {
        let request = self.builder.set_markdown().request();
        request.send_stream().await?.text().await
    }
}
