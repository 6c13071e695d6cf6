//! Rolling pool update: the DADL example of the same name in Rust.
//!
//! Starts `rolling_update` on the first pool with `shutdownPinnedVms`
//! (XO 6.7+: VMs that cannot live-migrate would otherwise abort the run),
//! then follows the task's progress from XO's task watch stream until it
//! ends.
//!
//! This updates and reboots every host of the pool in turn: against a real
//! XO it only runs with `--yes`.
//!
//! ```sh
//! cargo run --example rolling_pool_update                  # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example rolling_pool_update -- --yes     # against a real XO
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use futures::TryStreamExt;
use xo_sdk::prelude::*;
use xo_sdk::xo::FinishedTask;

/// How the update went.
#[derive(Debug)]
pub struct Update {
    /// The pool.
    pub pool: PoolId,
    /// The task states seen while following it, the last one final.
    pub states_seen: usize,
    /// The final task.
    pub task: FinishedTask,
}

/// Run a rolling update of the first pool and follow it to its end.
pub async fn run(client: &Client) -> Result<Update, BoxError> {
    let pool = common::first_pool(client).await?;
    let task = client
        .pools()
        .rolling_update(&pool)
        .shutdown_pinned_vms(true)
        .send()
        .await?;
    println!("Rolling update of pool {pool}: task {}", task.id());

    let mut states_seen = 0;
    let mut updates = task.updates().await?;
    while let Some(state) = updates.try_next().await? {
        states_seen += 1;
        match state.progress() {
            Some(p) => println!("  {} {p:.0}%", state.status_str()),
            None => println!("  {}", state.status_str()),
        }
    }

    // The stream ends with the final state; `wait` returns it at once (and
    // would still wait if the watch stream had been cut short).
    let done = task.wait().await?;
    if let Some(failure) = done.failure() {
        return Err(failure.into());
    }
    println!("Pool {pool} is up to date ({})", done.status());
    Ok(Update {
        pool,
        states_seen,
        task: done,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let confirmed = std::env::args().any(|a| a == "--yes");
    if !target.is_simulated() && !confirmed {
        eprintln!("This reboots every host of the pool in turn: run again with --yes.");
        std::process::exit(2);
    }
    run(&target.client).await?;
    Ok(())
}
