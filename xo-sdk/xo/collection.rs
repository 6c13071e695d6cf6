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
//! use xo_sdk::xo::{Collection, Filter};
//!
//! // ["/rest/v0/vms/…", …] as typed references
//! let refs = client.vms().list().refs().await?;
//! // objects with two fields (every other field is `None`)
//! let vms = client
//!     .vms()
//!     .list()
//!     .filter(Filter::eq("power_state", "Running"))
//!     .select(["name_label", "power_state"])
//!     .send()
//!     .await?;
//! // every VM, whole, one at a time in constant memory
//! let mut stream = client.vms().list().all_fields().stream();
//! while let Some(vm) = stream.try_next().await? {
//!     println!("{:?}", vm.name_label);
//! }
//! # let _ = (refs, vms);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::runtime::{ByteStream, NdjsonStream, Request, Result};

/// A reference to an XO object, as a collection lists it by default:
/// `/rest/v0/vms/0b7c…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Href(String);

impl Href {
    /// Wrap an href.
    pub fn new(href: impl Into<String>) -> Self {
        Href(href.into())
    }

    /// The href as sent (`/rest/v0/vms/<id>`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object id: the last path segment.
    pub fn id(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The collection: the segment before the id (`vms`).
    pub fn collection(&self) -> Option<&str> {
        let mut segments = self.0.rsplit('/');
        segments.next()?;
        segments.next().filter(|s| !s.is_empty())
    }
}

impl fmt::Display for Href {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A generated list builder of an XO collection (`client.vms().list()`,
/// `client.hosts().list_alarms(id)`, …), with its item type.
///
/// Implemented for every collection tool of the API; the methods below add
/// typed answers to the builder's own setters (`filter`, `limit`, …).
pub trait Collection: Sized + Send + 'static {
    /// The object type of the collection.
    type Item: DeserializeOwned + Send + 'static;

    /// Set the `fields` query parameter (used by [`select`](Self::select)).
    #[doc(hidden)]
    fn set_fields(self, fields: String) -> Self;

    /// Set `ndjson=true` (used by [`Typed::stream`]).
    #[doc(hidden)]
    fn set_ndjson(self) -> Self;

    /// The runtime request with every argument applied.
    #[doc(hidden)]
    fn request(self) -> Request;

    /// The default answer: one typed reference per object.
    fn refs(self) -> impl Future<Output = Result<Vec<Href>>> + Send {
        self.request().send_json()
    }

    /// Ask for these fields only; the objects have every other field `None`.
    fn select<I, S>(self, fields: I) -> Typed<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = fields.into_iter().map(|f| f.as_ref().to_owned()).collect();
        Typed {
            builder: self.set_fields(joined.join(",")),
        }
    }

    /// Ask for whole objects (`fields=*`).
    fn all_fields(self) -> Typed<Self> {
        Typed {
            builder: self.set_fields("*".to_owned()),
        }
    }
}

/// A collection request that answers objects (after
/// [`Collection::select`] or [`Collection::all_fields`]).
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await` or `.stream()`"]
pub struct Typed<C> {
    builder: C,
}

impl<C: Collection> Typed<C> {
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

    /// The collection as XO's Markdown table (`text/markdown`), for humans
    /// and LLM prompts. It honours `fields`, `filter` and `limit`.
    fn markdown_table(self) -> impl Future<Output = Result<String>> + Send {
        let request = self.set_markdown().request();
        async move { request.send_stream().await?.text().await }
    }
}

/// Implements [`Collection`] (and [`MarkdownTable`] where the tool has a
/// `markdown` parameter) for generated list builders.
macro_rules! collections {
    ($($builder:ty => $item:ty $(, $markdown:ident)?;)*) => {
        $(
            impl Collection for $builder {
                type Item = $item;
                fn set_fields(self, fields: String) -> Self {
                    self.fields(fields)
                }
                fn set_ndjson(self) -> Self {
                    self.ndjson(true)
                }
                fn request(self) -> Request {
                    self.into_request()
                }
            }
            $(collections!(@$markdown $builder);)?
        )*
    };
    (@markdown $builder:ty) => {
        impl MarkdownTable for $builder {
            fn set_markdown(self) -> Self {
                self.markdown(true)
            }
        }
    };
}

pub(crate) use collections;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn href_parts() {
        let h = Href::new("/rest/v0/vms/0b7c2b5c-9f6a");
        assert_eq!(h.id(), "0b7c2b5c-9f6a");
        assert_eq!(h.collection(), Some("vms"));
        assert_eq!(Href::new("x").collection(), None);
    }
}
