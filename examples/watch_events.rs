//! Watch VMs change, live, from XO's event stream.
//!
//! Subscribes to the `VM` collection (two fields: name and power state)
//! and prints every `add`, `update` and `remove` until it has seen enough
//! events or the time is up. If the connection drops, the SDK reconnects
//! and subscribes again; the changes made meanwhile are not replayed, which
//! the stream says with a `Reconnected` event.
//!
//! Against a real XO it only watches. Against xo-sim nothing would change
//! on its own, so it makes changes itself: it clones a VM (add), starts and
//! stops the clone (updates), and deletes it (remove), then stops once the
//! removal has arrived.
//!
//! ```sh
//! cargo run --example watch_events                        # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example watch_events -- 50 300          # 50 events or 5 minutes
//! ```

#[path = "common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::BoxError;
use futures::TryStreamExt;
use xo_sdk::prelude::*;
use xo_sdk::xo::Event;

/// The name of the VM the simulated changes make.
pub const DEMO_VM: &str = "watch-events-demo";

/// One change seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// `add`, `update` or `remove`.
    pub kind: &'static str,
    /// The VM's id.
    pub id: VmId,
    /// Its fields, as the event carried them (`None` for a removal).
    pub vm: Option<Vm>,
}

/// When to stop watching.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// After this many VM events.
    pub max_events: usize,
    /// After this long.
    pub timeout: Duration,
}

/// Watch VM events within `limits`; with `make_changes`, make some.
pub async fn run(
    client: &Client,
    limits: Limits,
    make_changes: bool,
) -> Result<Vec<Seen>, BoxError> {
    // `open` returns once the subscription is in place: no change made
    // after it is missed.
    let mut events = client
        .event_stream()
        .subscribe("VM", [Vm::NAME_LABEL.name(), Vm::POWER_STATE.name()])
        .open()
        .await?;
    println!(
        "Watching VMs (at most {} events, {:?})",
        limits.max_events, limits.timeout
    );

    // The id of the VM the changes made, once it exists.
    let demo = Arc::new(Mutex::new(None::<VmId>));
    let changes = make_changes.then(|| {
        let client = client.clone();
        let demo = demo.clone();
        tokio::spawn(async move { make_some_changes(&client, &demo).await })
    });

    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + limits.timeout;
    while seen.len() < limits.max_events {
        let event = match tokio::time::timeout_at(deadline, events.try_next()).await {
            Err(_elapsed) => {
                println!("Time is up");
                break;
            }
            Ok(event) => event?,
        };
        let Some(event) = event else { break };
        let (kind, change) = match &event {
            Event::Add(c) => ("add", c),
            Event::Update(c) => ("update", c),
            Event::Remove(c) => ("remove", c),
            Event::Reconnected(r) => {
                println!("! reconnected ({}): changes may have been missed", r.cause);
                continue;
            }
            _ => continue,
        };
        let id = VmId::new(change.id().unwrap_or_default());
        let vm: Option<Vm> = (kind != "remove").then(|| change.decode()).transpose()?;
        match &vm {
            Some(vm) => println!(
                "{kind:<6} {id}  {:?} {}",
                vm.name_label.as_deref().unwrap_or_default(),
                vm.power_state.as_ref().map_or("", |s| s.as_str())
            ),
            None => println!("{kind:<6} {id}"),
        }
        seen.push(Seen { kind, id, vm });

        let demo_removed = kind == "remove"
            && demo
                .lock()
                .is_ok_and(|d| d.as_ref() == Some(&seen[seen.len() - 1].id));
        if demo_removed {
            break;
        }
    }

    if let Some(changes) = changes {
        // The changes' own errors (a VM that would not start, …).
        changes.await??;
    }
    Ok(seen)
}

/// Clone a halted VM, start and stop the clone, and delete it.
async fn make_some_changes(client: &Client, demo: &Mutex<Option<VmId>>) -> Result<(), BoxError> {
    let halted = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::POWER_STATE, "Halted"))
        .send()
        .await?;
    let source = halted.first().ok_or("no halted VM to clone")?.id();

    let task = client
        .vms()
        .clone_vm(&source)
        .name_label(DEMO_VM)
        .send()
        .await?;
    let clone: VmId = task.result().await?;
    if let Ok(mut d) = demo.lock() {
        *d = Some(clone.clone());
    }
    client.vms().start(&clone).run_sync().await?;
    client.vms().hard_shutdown(&clone).run_sync().await?;
    client.vms().delete(&clone).send().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let args = common::positional_args();
    let number = |i, default| common::positional_number(&args, i, default);
    let limits = Limits {
        max_events: usize::try_from(number(0, 50)?)?,
        timeout: Duration::from_secs(number(1, if target.is_simulated() { 10 } else { 60 })?),
    };
    let seen = run(&target.client, limits, target.is_simulated()).await?;
    println!("{} events", seen.len());
    Ok(())
}
