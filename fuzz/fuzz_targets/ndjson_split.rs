//! The NDJSON stream over arbitrary chunkings: the values and errors must
//! be those of splitting the whole body on `\n` (CR stripped, blank lines
//! skipped), whatever the chunk boundaries.
#![no_main]

use futures::StreamExt;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[path = "chunks.rs"]
mod chunks;

fn decode_stream(chunks: Vec<Vec<u8>>) -> Vec<Result<Value, ()>> {
    let body = futures::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
    );
    let resp = http::Response::new(reqwest::Body::wrap_stream(body));
    let stream = xo_sdk::fuzzing::byte_stream(reqwest::Response::from(resp)).ndjson::<Value>();
    futures::executor::block_on(stream.map(|r| r.map_err(|_| ())).collect())
}

fn reference(data: &[u8]) -> Vec<Result<Value, ()>> {
    data.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(|l| serde_json::from_slice(l).map_err(|_| ()))
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let (data, chunks) = chunks::split(input);
    let expected = reference(data);
    let got = decode_stream(chunks.iter().map(|c| c.to_vec()).collect());
    assert_eq!(got, expected, "chunked NDJSON differs from the whole body");
    let whole = decode_stream(vec![data.to_vec()]);
    assert_eq!(
        whole, expected,
        "one-chunk NDJSON differs from the whole body"
    );
});
