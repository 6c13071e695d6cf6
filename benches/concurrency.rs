//! Many concurrent calls through one client against xo-sim, in one run.
//!
//! `cargo bench --bench concurrency` (optionally `-- CALLS ROUNDS`, default
//! 10 000 calls, 3 rounds). xo-sim (its seeded inventory) runs in a child
//! process, so that the client's and the server's sockets each have the
//! process's whole file-descriptor limit. Every round starts CALLS typed
//! `vms().get(id).send()` at once through one `Client` (one connection
//! pool) and waits for all of them. Reports per round: errors (with the
//! first error's text), wall time, calls/s and the latency of one call
//! (p50 / p99 / max, from its start to its typed answer); then the client
//! process's peak RSS (VmHWM).

mod common;

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use xo_sdk::types::VmId;

/// The child: start xo-sim, print `URL TOKEN` and one VM id per line, then
/// serve until stdin closes.
fn serve() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = xo_sim::start().await.unwrap();
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {}", sim.url(), sim.token()).unwrap();
        for id in sim.ids("vms") {
            writeln!(out, "{id}").unwrap();
        }
        writeln!(out).unwrap();
        out.flush().unwrap();
        drop(out);
        // Parent gone (stdin closed) = done.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {}
        })
        .await
        .unwrap();
    });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("serve") {
        serve();
        return;
    }
    let calls: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let head = lines.next().unwrap().unwrap();
    let (url, token) = head.split_once(' ').unwrap();
    let ids: Vec<VmId> = lines
        .map(Result::unwrap)
        .take_while(|l| !l.is_empty())
        .map(VmId::new)
        .collect();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = xo_sdk::Client::builder(url).token(token).build().unwrap();
        println!(
            "{calls} concurrent typed GETs per round through one client, {rounds} rounds"
        );
        for round in 1..=rounds {
            let started = Instant::now();
            let mut pending: FuturesUnordered<_> = (0..calls)
                .map(|i| {
                    let client = client.clone();
                    let id = ids[i % ids.len()].clone();
                    async move {
                        let t = Instant::now();
                        let answer = client.vms().get(&id).send().await;
                        (t.elapsed(), answer.map(|vm| vm.id).map_err(|e| e.to_string()))
                    }
                })
                .collect();
            let mut latencies = Vec::with_capacity(calls);
            let mut errors = 0usize;
            let mut first_error = None;
            while let Some((latency, answer)) = pending.next().await {
                latencies.push(latency);
                if let Err(e) = answer {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            let wall = started.elapsed();
            latencies.sort();
            println!(
                "round {round}: errors {errors}, wall {:.2} s, {:.0} calls/s, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                wall.as_secs_f64(),
                calls as f64 / wall.as_secs_f64(),
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().unwrap().as_secs_f64() * 1e3,
            );
            if let Some(e) = first_error {
                println!("  first error: {e}");
            }
        }
    });
    println!(
        "client peak RSS: {:.1} MiB",
        common::peak_rss_kib() as f64 / 1024.0
    );
    drop(child.stdin.take());
    let _ = child.wait();
}
