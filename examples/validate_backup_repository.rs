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
use serde::Deserialize;
use xo_sdk::xo::{Action, Collection};

/// A benchmark's result.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Benchmark {
    /// Bytes per second read.
    pub read_rate: f64,
    /// Bytes per second written.
    pub write_rate: f64,
}

/// The verdict.
#[derive(Debug)]
pub enum Verdict {
    /// XO cannot reach or use the repository.
    Unreachable {
        /// The repository.
        repository: String,
        /// What XO said.
        reason: String,
    },
    /// Reachable, and this fast.
    Benchmarked {
        /// The repository.
        repository: String,
        /// The benchmark task.
        task_id: String,
        /// Its result.
        benchmark: Benchmark,
    },
}

/// Check the repository `wanted` (an id or a name; the first one when
/// `None`).
pub async fn run(client: &xo_sdk::Client, wanted: Option<&str>) -> Result<Verdict, BoxError> {
    let repository = match wanted {
        Some(w) => {
            common::resolve(client.backup_repositories().list(), "name", w, "repository").await?
        }
        None => {
            let repos = client
                .backup_repositories()
                .list()
                .select(["id", "name"])
                .send()
                .await?;
            repos
                .into_iter()
                .find_map(|r| r.id)
                .ok_or("XO has no backup repository")?
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
        .submit()
        .await?;
    let benchmark: Benchmark = task.result_as().await?;
    println!(
        "  read {:.0} MB/s, write {:.0} MB/s",
        benchmark.read_rate / 1e6,
        benchmark.write_rate / 1e6
    );
    Ok(Verdict::Benchmarked {
        repository,
        task_id: task.id().to_owned(),
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
