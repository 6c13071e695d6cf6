//! Overhead of one SDK GET (small JSON reply, loopback server) against the
//! same request made with raw reqwest, in one run.
//!
//! `cargo bench --bench request_overhead` (optionally `-- ROUNDS`). Both
//! sides use identically configured reqwest clients and the same server;
//! rounds alternate which side goes first so that drift (CPU frequency, the
//! other process on the machine) hits both equally. Reports min / median /
//! p90 / max per side and the ratio of medians (target: ≤ 1.05), next to an
//! A/A control (raw against raw) that shows the noise floor.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{API, GET_VM, Reply, Server};

/// Counts heap allocations, to report allocations per call next to time.
struct CountingAlloc;

static ALLOCS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const REPLY: &str = r#"{"id":"0b1c6c3e-7a1f-4c57-9a2b-3f0d2c1e9d44","name_label":"web-01","power_state":"Running"}"#;

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(rounds));
}

async fn run(rounds: usize) {
    let server = Server::always(Reply::json(200, REPLY)).await;
    let sdk = xo_sdk::Client::builder_for(&API, server.url())
        .token("bench-token")
        .build()
        .expect("sdk client");
    let raw = xo_sdk::runtime::http_client_builder()
        .expect("builder")
        .build()
        .expect("raw client");
    let base = server.url();
    let id = "vm-1";

    let sdk_call = || async {
        let mut r = sdk.request(&GET_VM);
        r.path_param("id", &"vm-1")
            .query("fields", &["name_label", "power_state"]);
        let v: Value = r.send_json().await.expect("sdk call");
        std::hint::black_box(v);
    };
    let raw_call = || async {
        // What hand-written code does: format the URL per call (and,
        // unlike the SDK, without encoding the id).
        let url = format!("{base}/rest/v0/vms/{id}?fields=name_label,power_state");
        let resp = raw
            .get(&url)
            .header(reqwest::header::COOKIE, "authenticationToken=bench-token")
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .expect("raw call")
            .error_for_status()
            .expect("status");
        let bytes = resp.bytes().await.expect("body");
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        std::hint::black_box(v);
    };

    // Warm-up: connections, allocator, caches.
    for _ in 0..500 {
        sdk_call().await;
        raw_call().await;
    }

    // Allocations per call (whole process: client, runtime and server).
    let count = |n: u64| ALLOCS.load(std::sync::atomic::Ordering::Relaxed) - n;
    let a = ALLOCS.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..200 {
        sdk_call().await;
    }
    let sdk_allocs = count(a) as f64 / 200.0;
    let a = ALLOCS.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..200 {
        raw_call().await;
    }
    let raw_allocs = count(a) as f64 / 200.0;

    // Three series: the SDK, raw reqwest, and raw reqwest again as an A/A
    // control, whose ratio to the first raw series shows the noise floor of
    // this machine. The order rotates every round.
    let mut sdk_times = Vec::with_capacity(rounds);
    let mut raw_times = Vec::with_capacity(rounds);
    let mut ctl_times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        for slot in 0..3 {
            let t = Instant::now();
            match (i + slot) % 3 {
                0 => {
                    sdk_call().await;
                    sdk_times.push(t.elapsed());
                }
                1 => {
                    raw_call().await;
                    raw_times.push(t.elapsed());
                }
                _ => {
                    raw_call().await;
                    ctl_times.push(t.elapsed());
                }
            }
        }
    }

    let s = Stats::of(&mut sdk_times);
    let r = Stats::of(&mut raw_times);
    let c = Stats::of(&mut ctl_times);
    println!(
        "request_overhead: {rounds} rounds, GET with a {}-byte JSON reply, loopback",
        REPLY.len()
    );
    println!(
        "  {:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "", "min", "median", "p90", "max", "mean"
    );
    s.print("xo-sdk");
    r.print("raw reqwest");
    c.print("raw (A/A)");
    println!(
        "  allocations per call (process-wide, server included): xo-sdk {sdk_allocs:.1}, raw {raw_allocs:.1}"
    );
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "  ratio sdk/raw: median {:.3}x, mean {:.3}x, min {:.3}x (target <= 1.05x on the median)",
        ratio(s.median, r.median),
        ratio(s.mean, r.mean),
        ratio(s.min, r.min),
    );
    println!(
        "  noise floor, raw (A/A)/raw: median {:.3}x, mean {:.3}x, min {:.3}x",
        ratio(c.median, r.median),
        ratio(c.mean, r.mean),
        ratio(c.min, r.min),
    );
}

struct Stats {
    min: Duration,
    median: Duration,
    p90: Duration,
    max: Duration,
    mean: Duration,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Stats {
        samples.sort();
        let n = samples.len();
        let total: Duration = samples.iter().sum();
        Stats {
            min: samples[0],
            median: samples[n / 2],
            p90: samples[n * 9 / 10],
            max: samples[n - 1],
            mean: total / n as u32,
        }
    }

    fn print(&self, name: &str) {
        let us = |d: Duration| format!("{:.1}us", d.as_secs_f64() * 1e6);
        println!(
            "  {:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
            name,
            us(self.min),
            us(self.median),
            us(self.p90),
            us(self.max),
            us(self.mean)
        );
    }
}
