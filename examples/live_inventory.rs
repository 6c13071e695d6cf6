//! Count VMs per power state, live: a reflector keeps a local copy of the
//! VM collection (one field: the power state) in sync from XO's event
//! stream, and the counts are printed again whenever they change. No
//! request is made after the first list, except when the event stream
//! reconnects (the reflector then lists again and reports the differences).
//!
//! It stops after a number of changes or a time limit. Against a real XO it
//! only watches. Against xo-sim nothing would change on its own, so it
//! starts a halted VM and shuts it down again.
//!
//! ```sh
//! cargo run --example live_inventory                       # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example live_inventory -- 100 600        # 100 changes or 10 minutes
//! ```

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::BoxError;
use futures::StreamExt;
use xo_sdk::prelude::*;
use xo_sdk::xo::{LiveChange, Store};

/// When to stop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// After this many changes of the VM collection.
    pub max_changes: usize,
    /// After this long.
    pub timeout: Duration,
}

/// VMs per power state (`Running`, `Halted`, …).
pub type Counts = BTreeMap<String, usize>;

/// The counts in the store now.
pub fn counts(store: &Store<Vm, VmId>) -> Counts {
    let mut counts = Counts::new();
    for (_, vm) in store.iter() {
        let state = vm.power_state.as_ref().map_or("unknown", |s| s.as_str());
        *counts.entry(state.to_owned()).or_default() += 1;
    }
    counts
}

fn show(counts: &Counts) -> String {
    counts
        .iter()
        .map(|(state, n)| format!("{state}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Watch within `limits`; with `make_changes`, make some. Answers the
/// counts at the end and how many changes were seen.
pub async fn run(
    client: &Client,
    limits: Limits,
    make_changes: bool,
) -> Result<(Counts, usize), BoxError> {
    let (store, mut changes) = client
        .vms()
        .list()
        .reflector()
        .fields([Vm::POWER_STATE])
        .start()
        .await?
        .into_parts();
    let mut shown = counts(&store);
    println!("{} VMs: {}", store.len(), show(&shown));

    let maker = make_changes.then(|| {
        let client = client.clone();
        tokio::spawn(async move { start_and_stop_one(&client).await })
    });

    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + limits.timeout;
    while seen < limits.max_changes {
        let Ok(change) = tokio::time::timeout_at(deadline, changes.next()).await else {
            println!("Time is up");
            break;
        };
        let Some(change) = change else {
            return Err(match store.error() {
                Some(e) => format!("the live store stopped: {e}").into(),
                None => "the live store stopped".into(),
            });
        };
        match &change {
            LiveChange::Added { .. } | LiveChange::Updated { .. } | LiveChange::Removed { .. } => {
                seen += 1;
            }
            LiveChange::Synced(report) => println!(
                "(listed again after a reconnection: {} added, {} changed, {} removed)",
                report.added, report.updated, report.removed
            ),
            _ => {}
        }
        let now = counts(&store);
        if now != shown {
            println!("{} VMs: {}", store.len(), show(&now));
            shown = now;
        }
    }
    if let Some(maker) = maker {
        maker.await??;
    }
    Ok((counts(&store), seen))
}

/// Start a halted VM, then shut it down again: two changes of counts.
async fn start_and_stop_one(client: &Client) -> Result<(), BoxError> {
    let halted = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::POWER_STATE, "Halted"))
        .send()
        .await?;
    let vm = halted.first().ok_or("no halted VM")?.id();
    client.vms().start(&vm).run_sync().await?;
    client.vms().hard_shutdown(&vm).run_sync().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let args = common::positional_args();
    let number = |i, default| common::positional_number(&args, i, default);
    let simulated = target.is_simulated();
    let limits = Limits {
        max_changes: usize::try_from(number(0, if simulated { 2 } else { 100 })?)?,
        timeout: Duration::from_secs(number(1, if simulated { 10 } else { 600 })?),
    };
    let (counts, seen) = run(&target.client, limits, simulated).await?;
    println!("{seen} changes; at the end: {}", show(&counts));
    Ok(())
}
