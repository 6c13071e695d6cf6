//! The `text/event-stream` decoder over arbitrary chunkings: the frames
//! (and the error, if any) must not depend on the chunk boundaries, and
//! turning frames into events must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "chunks.rs"]
mod chunks;

fuzz_target!(|input: &[u8]| {
    let (data, chunks) = chunks::split(input);
    let whole = xo_sdk::fuzzing::sse_frames([data]);
    let chunked = xo_sdk::fuzzing::sse_frames(chunks.iter().copied());
    assert_eq!(chunked, whole, "frames depend on the chunking");
    // Byte by byte: the worst case for CR/LF pairs and the byte-order mark.
    let bytewise = xo_sdk::fuzzing::sse_frames(data.chunks(1));
    assert_eq!(bytewise, whole, "frames differ when fed byte by byte");
});
