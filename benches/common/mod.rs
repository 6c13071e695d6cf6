//! Measurement helpers shared by the bench binaries.

// Each bench uses part of this module.
#![allow(dead_code)]

/// Peak resident set size of this process (`VmHWM`), in KiB; 0 where
/// `/proc` is not available.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// (min, median, max) of a non-empty sample.
pub fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[0], v[v.len() / 2], v[v.len() - 1])
}
