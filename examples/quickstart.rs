//! Quickstart: the first program to run.
//!
//! Three things every XO program does, against your Xen Orchestra when
//! `XO_URL` and `XO_TOKEN` are set, against an in-process simulator
//! (xo-sim) otherwise:
//!
//! 1. list a **typed collection**: every VM, with only the fields asked for;
//! 2. let XO **filter** it: the running VMs;
//! 3. run an **action and follow its task**: rescan a storage repository
//!    (it refreshes XO's list of the SR's disks and changes nothing else,
//!    so it is safe on a production pool).
//!
//! ```sh
//! cargo run --example quickstart                      # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… cargo run --example quickstart
//! ```

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::xo::FinishedTask;

/// What the tour saw and did.
#[derive(Debug)]
pub struct Tour {
    /// Number of VMs of each power state.
    pub by_power_state: BTreeMap<String, usize>,
    /// The names of the running VMs, sorted.
    pub running: Vec<String>,
    /// The SR that was rescanned.
    pub sr: SrId,
    /// Its scan task, finished.
    pub task: FinishedTask,
}

/// List, filter, act.
pub async fn run(client: &Client) -> Result<Tour, BoxError> {
    // 1. A typed collection. Without `select`, XO answers references
    //    only (`Href<VmId>`);
    //    with it, objects holding the requested fields (the others are
    //    `None`). `GET /rest/v0/vms?fields=name_label,power_state`
    let vms: Vec<Vm> = client
        .vms()
        .list()
        .select([Vm::NAME_LABEL, Vm::POWER_STATE])
        .send()
        .await?;
    let mut by_power_state = BTreeMap::new();
    for vm in &vms {
        let state = vm
            .power_state
            .as_ref()
            .map_or("unknown", PowerState::as_str);
        *by_power_state.entry(state.to_owned()).or_insert(0) += 1;
    }
    println!("{} VMs", vms.len());
    for (state, count) in &by_power_state {
        println!("  {state:<10} {count:>4}");
    }

    // 2. A filter, evaluated by XO (complex-matcher syntax):
    //    `GET /rest/v0/vms?filter=power_state:Running&fields=name_label`
    let running: Vec<Vm> = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::POWER_STATE, "Running"))
        .select([Vm::NAME_LABEL])
        .send()
        .await?;
    let mut running: Vec<String> = running
        .into_iter()
        .map(|vm| vm.name_label.unwrap_or_default())
        .collect();
    running.sort();
    println!("\nRunning: {}", running.join(", "));

    // 3. An action. XO answers `202 Accepted` with a task at once; the
    //    outcome is the task's. Rescan the first SR that holds VM disks
    //    (ISO libraries are skipped), shared ones first.
    let srs: Vec<Sr> = client
        .srs()
        .list()
        .select([Sr::ID, Sr::NAME_LABEL, Sr::CONTENT_TYPE, Sr::SHARED])
        .send()
        .await?;
    let sr = srs
        .iter()
        .filter(|sr| sr.content_type.as_deref() != Some("iso"))
        .max_by_key(|sr| sr.shared == Some(true))
        .ok_or("XO has no storage repository")?;
    let sr_id = sr.id.clone().ok_or("an SR without id")?;
    let sr_name = sr.name_label.as_deref().unwrap_or_default();

    let task = client.srs().scan(&sr_id).send().await?;
    println!("\nRescanning SR {sr_name:?}: task {}", task.id());
    let done = task.wait().await?;
    if let Some(failure) = done.failure() {
        // XO's message, error name and XAPI code, as one error.
        return Err(failure.into());
    }
    let took = match (done.start(), done.end()) {
        (Some(start), Some(end)) => format!(" in {} ms", end - start),
        _ => String::new(),
    };
    println!("Task {}: {}{took}", task.id(), done.status());

    Ok(Tour {
        by_power_state,
        running,
        sr: sr_id,
        task: done,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    run(&target.client).await?;
    println!("\nMore: `ls examples/`, e.g. `cargo run --example list_running_vms`.");
    Ok(())
}
