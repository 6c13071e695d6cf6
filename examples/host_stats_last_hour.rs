//! Live host stats over the last hour: the DADL example of the same name in
//! Rust.
//!
//! `get_host_stats` with `granularity: "minutes"` answers XAPI's RRD at
//! one sample a minute (XO sends the last two hours, oldest first). This
//! keeps the last hour and sums it up: CPU, memory, load.
//!
//! Samples can be `null` (the host did not report that minute): they are
//! skipped, not counted as zero.
//!
//! ```sh
//! cargo run --example host_stats_last_hour                  # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example host_stats_last_hour -- xcp-host-01
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::StatSeries;

/// One hour of a host, summed up.
#[derive(Debug)]
pub struct HourSummary {
    /// The host.
    pub host: HostId,
    /// Seconds between samples (60).
    pub interval: i64,
    /// Samples kept: the last hour's.
    pub samples: usize,
    /// Number of CPUs reported.
    pub cpus: usize,
    /// Mean CPU usage over all CPUs and samples, in XO's unit.
    pub cpu_mean: Option<f64>,
    /// Highest per-minute mean over all CPUs.
    pub cpu_peak: Option<f64>,
    /// Mean memory in use (total − free), bytes.
    pub memory_used_mean: Option<f64>,
    /// Mean load average.
    pub load_mean: Option<f64>,
}

/// The numbers of the last `n` samples of a series (`null`s skipped).
fn last(series: &StatSeries, n: usize) -> Vec<f64> {
    let start = series.len().saturating_sub(n);
    series[start..].iter().filter_map(|v| v.as_f64()).collect()
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Fetch and sum up the last hour of `host`.
pub async fn run(client: &Client, host: &HostId) -> Result<HourSummary, BoxError> {
    let stats = client
        .hosts()
        .get_stats(host)
        .granularity("minutes")
        .send()
        .await?;
    let interval = stats
        .interval
        .filter(|i| *i > 0)
        .ok_or("no sample interval")?;
    let per_hour = usize::try_from(3600 / interval)?;
    let data = stats.stats.ok_or("XO sent no stats for the host")?;

    // CPU: one series per CPU; per minute, the mean over the CPUs.
    let cpu_series: Vec<Vec<f64>> = data
        .cpus
        .unwrap_or_default()
        .values()
        .map(|s| last(s, per_hour))
        .collect();
    let all: Vec<f64> = cpu_series.iter().flatten().copied().collect();
    let minutes = cpu_series.iter().map(Vec::len).max().unwrap_or(0);
    let cpu_peak = (0..minutes)
        .filter_map(|i| {
            mean(
                &cpu_series
                    .iter()
                    .filter_map(|s| s.get(i).copied())
                    .collect::<Vec<_>>(),
            )
        })
        .reduce(f64::max);

    // Memory: total and free are two series of the same length.
    let total = data
        .memory
        .as_ref()
        .map(|s| last(s, per_hour))
        .unwrap_or_default();
    let free = data
        .memory_free
        .as_ref()
        .map(|s| last(s, per_hour))
        .unwrap_or_default();
    let used: Vec<f64> = total.iter().zip(&free).map(|(t, f)| t - f).collect();
    let load = data
        .load
        .as_ref()
        .map(|s| last(s, per_hour))
        .unwrap_or_default();

    let summary = HourSummary {
        host: host.clone(),
        interval,
        samples: minutes.max(total.len()),
        cpus: cpu_series.len(),
        cpu_mean: mean(&all),
        cpu_peak,
        memory_used_mean: mean(&used),
        load_mean: mean(&load),
    };
    let show = |v: Option<f64>, scale: f64, unit: &str| {
        v.map_or("n/a".to_owned(), |v| format!("{:.2}{unit}", v / scale))
    };
    println!(
        "Host {host}: {} samples, {} s apart",
        summary.samples, summary.interval
    );
    println!(
        "  CPU ({} CPUs)   mean {}  peak {}",
        summary.cpus,
        show(summary.cpu_mean, 1.0, ""),
        show(summary.cpu_peak, 1.0, "")
    );
    println!(
        "  memory used   mean {}",
        show(summary.memory_used_mean, (1u64 << 30) as f64, " GiB")
    );
    println!("  load average  mean {}", show(summary.load_mean, 1.0, ""));
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let client = &target.client;
    let host = match common::positional_args().first() {
        Some(wanted) => common::host(client, wanted)
            .await?
            .id
            .ok_or("XO sent a host without id")?,
        None => {
            let hosts = client.hosts().list().send().await?;
            hosts.first().ok_or("XO has no host")?.id()
        }
    };
    run(client, &host).await?;
    Ok(())
}
