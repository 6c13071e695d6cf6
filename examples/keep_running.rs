//! Keep the VMs that carry a tag running: whenever one is halted, start it.
//!
//! A reflector keeps the VMs' power states and tags in sync from XO's event
//! stream; the program starts every halted VM with the tag it finds at
//! first, then every one that halts or gets the tag later. A resync after
//! a reconnection is handled the same way (its differences come as
//! changes), and a subscriber that fell behind looks at the whole store.
//!
//! It starts VMs: against a real XO it needs `--yes`. It stops after a
//! number of starts or a time limit. Against xo-sim it tags a halted VM
//! itself, then shuts it down once it is running, so that there is
//! something to restart.
//!
//! ```sh
//! cargo run --example keep_running                           # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example keep_running -- critical 10 3600 --yes   # tag, starts, seconds
//! ```

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::BoxError;
use futures::StreamExt;
use xo_sdk::prelude::*;
use xo_sdk::xo::{LiveChange, Store};

/// The tag of the simulated run.
pub const DEMO_TAG: &str = "keep-running";

/// When to stop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// After this many starts.
    pub max_starts: usize,
    /// After this long.
    pub timeout: Duration,
}

fn needs_start(vm: &Vm, tag: &str) -> bool {
    vm.power_state == Some(PowerState::Halted)
        && vm.tags.as_ref().is_some_and(|t| t.iter().any(|x| x == tag))
}

/// Keep the VMs tagged `tag` running within `limits`; with
/// `make_changes`, make a VM to restart. Answers the VMs started, in order.
pub async fn run(
    client: &Client,
    tag: &str,
    limits: Limits,
    make_changes: bool,
) -> Result<Vec<VmId>, BoxError> {
    let (store, mut changes) = client
        .vms()
        .list()
        .reflector()
        .fields([Vm::NAME_LABEL, Vm::POWER_STATE, Vm::TAGS])
        .start()
        .await?
        .into_parts();
    println!(
        "Keeping the VMs tagged {tag:?} running ({} VMs)",
        store.len()
    );

    let maker = make_changes.then(|| {
        let client = client.clone();
        let store = store.clone();
        let tag = tag.to_owned();
        tokio::spawn(async move { halt_a_tagged_vm(&client, &store, &tag).await })
    });

    let mut started = Vec::new();
    // Whatever is halted now, then whatever halts.
    let mut pending: Vec<VmId> = store
        .iter()
        .filter(|(_, vm)| needs_start(vm, tag))
        .map(|(id, _)| id)
        .collect();
    let deadline = tokio::time::Instant::now() + limits.timeout;
    while started.len() < limits.max_starts {
        if let Some(id) = pending.pop() {
            // Check again: the store may have moved on since.
            if store.get(&id).is_some_and(|vm| needs_start(&vm, tag)) {
                println!("{id} is halted: starting it");
                match client.vms().start(&id).run_sync().await {
                    Ok(()) => started.push(id),
                    Err(e) => eprintln!("{id} did not start: {e}"),
                }
            }
            continue;
        }
        let Ok(change) = tokio::time::timeout_at(deadline, changes.next()).await else {
            println!("Time is up");
            break;
        };
        match change {
            Some(
                LiveChange::Added { id, object: vm } | LiveChange::Updated { id, new: vm, .. },
            ) if needs_start(&vm, tag) => {
                pending.push(id);
            }
            // Behind: what changed is unknown, look at everything.
            Some(LiveChange::Lagged { .. }) => {
                pending.extend(
                    store
                        .iter()
                        .filter(|(_, vm)| needs_start(vm, tag))
                        .map(|(id, _)| id),
                );
            }
            Some(_) => {}
            None => return Err(format!("the live store stopped: {:?}", store.error()).into()),
        }
    }
    if let Some(maker) = maker {
        maker.await??;
    }
    Ok(started)
}

/// Tag a halted VM (it gets started), wait for it to run, and shut it
/// down (it gets started again).
async fn halt_a_tagged_vm(
    client: &Client,
    store: &Store<Vm, VmId>,
    tag: &str,
) -> Result<(), BoxError> {
    let halted = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::POWER_STATE, "Halted"))
        .send()
        .await?;
    let vm = halted.first().ok_or("no halted VM")?.id();
    client.vms().add_tag(vm.clone(), tag).send().await?;
    let running = |vm: &Vm| vm.power_state == Some(PowerState::Running);
    store
        .wait_until(&vm, Duration::from_secs(30), running)
        .await?;
    client.vms().hard_shutdown(&vm).run_sync().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    common::require_yes(&target, "This starts every halted VM that carries the tag");
    let args = common::positional_args();
    let simulated = target.is_simulated();
    let tag = args.first().map_or(DEMO_TAG, String::as_str);
    let number = |i, default| common::positional_number(&args, i, default);
    let limits = Limits {
        max_starts: usize::try_from(number(1, if simulated { 2 } else { 100 })?)?,
        timeout: Duration::from_secs(number(2, if simulated { 15 } else { 3600 })?),
    };
    let started = run(&target.client, tag, limits, simulated).await?;
    println!("{} starts", started.len());
    Ok(())
}
