//! Validate a backup repository before trusting it (XO 6.6+): the DADL
//! example of the same name in Rust.
//!
//! First a reachability check (`get_backup_repository_health`), then a
//! throughput benchmark: it writes test data and runs for a while, as a
//! task followed to its end. The benchmark's result is XO's
//! `{readRate, writeRate}` in bytes per second.
//!
//! ```sh
//! cargo run --example validate_backup_repository            # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example validate_backup_repository -- "NFS backups"
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::BackupRepositoryBenchmark;

/// The verdict.
#[derive(Debug)]
pub enum Verdict {
    /// XO cannot reach or use the repository.
    Unreachable {
        /// The repository.
        repository: BackupRepositoryId,
        /// What XO said.
        reason: String,
    },
    /// Reachable, and this fast.
    Benchmarked {
        /// The repository.
        repository: BackupRepositoryId,
        /// The benchmark task.
        task_id: TaskId,
        /// Its result: bytes per second read and written.
        benchmark: BackupRepositoryBenchmark,
    },
}

/// Check the repository `wanted` (an id or a name; the first one when
/// `None`).
pub async fn run(client: &Client, wanted: Option<&str>) -> Result<Verdict, BoxError> {
    let repository = match wanted {
        Some(w) => common::backup_repository(client, w)
            .await?
            .id
            .ok_or("XO sent a repository without id")?,
        None => {
            let repos = client.backup_repositories().list().send().await?;
            repos.first().ok_or("XO has no backup repository")?.id()
        }
    };

    // XO answers `{success: true}`, `{success: false}`, or an error (500)
    // when it cannot even open the repository (disabled, mount failed).
    let health = client
        .backup_repositories()
        .get_health(&repository)
        .send()
        .await;
    let reason = match health {
        Ok(h) if h.success == Some(true) => None,
        Ok(_) => Some("the health check failed".to_owned()),
        Err(e) if e.as_api().is_some() => Some(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    if let Some(reason) = reason {
        println!("Repository {repository} is unreachable: {reason}");
        return Ok(Verdict::Unreachable { repository, reason });
    }
    println!("Repository {repository} is reachable; benchmarking");

    let task = client
        .backup_repositories()
        .benchmark(&repository)
        .send()
        .await?;
    let benchmark: BackupRepositoryBenchmark = task.result().await?;
    let mb_per_s = |rate: Option<f64>| rate.map_or("?".to_owned(), |r| format!("{:.0}", r / 1e6));
    println!(
        "  read {} MB/s, write {} MB/s",
        mb_per_s(benchmark.read_rate),
        mb_per_s(benchmark.write_rate)
    );
    Ok(Verdict::Benchmarked {
        repository,
        task_id: task.id(),
        benchmark,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let args = common::positional_args();
    run(&target.client, args.first().map(String::as_str)).await?;
    Ok(())
}
