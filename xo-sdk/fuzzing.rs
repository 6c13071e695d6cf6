//! Entry points for the cargo-fuzz targets of `fuzz/` (hidden, not API).
//!
//! Thin wrappers over crate-private parsers, so the fuzz crate can drive
//! them without widening the public API.

use crate::runtime::{ByteStream, CallSite, HttpMethod};

/// The call site of fuzzed streams.
const SITE: CallSite = CallSite {
    tool: "fuzz",
    method: HttpMethod::Get,
    path: "/fuzz",
};

/// A [`ByteStream`] over a response (build one from an
/// `http::Response<reqwest::Body>`), without timeouts.
pub fn byte_stream(resp: reqwest::Response) -> ByteStream {
    ByteStream::from_response(resp, SITE, None, "fuzz", None)
}

/// Feed `chunks` to the `text/event-stream` decoder, one push each. Returns
/// each dispatched frame (its `Debug` text) and the decoder's error, if
/// any; each frame is also turned into an [`Event`](crate::xo::Event), which
/// must not panic.
pub fn sse_frames<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<String>, Option<&'static str>) {
    let mut decoder = crate::xo::events::SseDecoder::default();
    let mut frames = Vec::new();
    let mut error = None;
    for chunk in chunks {
        if let Err(e) = decoder.push(chunk) {
            error = Some(e);
            break;
        }
        while let Some(frame) = decoder.next_frame() {
            frames.push(format!("{frame:?}"));
            let _ = crate::xo::events::event_of(frame);
        }
    }
    (frames, error)
}
