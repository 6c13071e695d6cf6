//! Splitting a fuzz input into chunks: the first two bytes seed the chunk
//! sizes (1 to 64 bytes, or the whole rest), the rest is the data.

/// `(data, chunks)`: the data, and it cut into pseudo-random chunks.
pub fn split(input: &[u8]) -> (&[u8], Vec<&[u8]>) {
    if input.len() < 2 {
        return (input, vec![input]);
    }
    let (seed, data) = (u32::from(input[0]) << 8 | u32::from(input[1]), &input[2..]);
    let max = (seed as usize % 64) + 1;
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = ((state >> 16) as usize % max + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        chunks.push(chunk);
        // Empty chunks happen on the wire too.
        if state & 0x100 == 0 {
            chunks.push(&[]);
        }
        rest = tail;
    }
    (data, chunks)
}
