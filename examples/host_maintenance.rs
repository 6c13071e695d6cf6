//! Host maintenance: the DADL example of the same name in Rust.
//!
//! Disables a host with `evacuate: true` (XO live-migrates its running VMs
//! to the other hosts of the pool, then the host accepts no new VM), runs
//! the maintenance work, and enables the host again. Both actions run
//! synchronously (`sync=true`): XO answers when they are done.
//!
//! Enabling the host does not move the VMs back: XAPI places new and
//! migrating VMs on it again from then on.
//!
//! Against a real XO it needs the host and `--yes`, and waits for Enter
//! between the two steps; against xo-sim it picks a host that can be
//! evacuated and goes straight through.
//!
//! ```sh
//! cargo run --example host_maintenance                        # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example host_maintenance -- xcp-host-02 --yes
//! ```

#[path = "common/mod.rs"]
mod common;

use std::future::Future;

use common::BoxError;
use xo_sdk::types::Host;
use xo_sdk::xo::{Action, Collection};

/// Where the host's VMs went.
#[derive(Debug)]
pub struct Maintenance {
    /// The host.
    pub host: String,
    /// Each VM resident on the host before, and the host it is on after
    /// the evacuation.
    pub moved: Vec<(String, Option<String>)>,
}

/// Put `host` in maintenance, run `work`, and take it out again. When
/// `work` fails, the host stays disabled and the error is returned.
pub async fn run<W>(client: &xo_sdk::Client, host: &str, work: W) -> Result<Maintenance, BoxError>
where
    W: Future<Output = Result<(), BoxError>>,
{
    let before = client.hosts().get(host).send().await?;
    let name = before.name_label.clone().unwrap_or_default();
    // `residentVms` lists the host's control domain (dom0) too: it stays.
    let residents: Vec<String> = before
        .resident_vms
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|vm| Some(vm) != before.control_domain.as_ref())
        .collect();
    println!(
        "Disabling {name:?} and evacuating its {} VMs",
        residents.len()
    );

    client
        .hosts()
        .disable(host)
        .evacuate(true)
        .run_sync()
        .await?;

    let hosts: Vec<Host> = client
        .hosts()
        .list()
        .select(["id", "name_label"])
        .send()
        .await?;
    let host_name = |id: Option<&str>| {
        let host = hosts.iter().find(|h| h.id.as_deref() == id);
        host.and_then(|h| h.name_label.clone())
            .unwrap_or_else(|| "(unknown)".to_owned())
    };
    let mut moved = Vec::new();
    for vm_id in residents {
        let vm = client.vms().get(&vm_id).send().await?;
        let vm_name = vm.name_label.unwrap_or_default();
        println!(
            "  {vm_name:?} is now on {:?}",
            host_name(vm.container.as_deref())
        );
        moved.push((vm_id, vm.container));
    }

    println!("{name:?} is in maintenance");
    if let Err(e) = work.await {
        return Err(format!("maintenance work failed, {name:?} stays disabled: {e}").into());
    }

    client.hosts().enable(host).run_sync().await?;
    println!("{name:?} is enabled again");
    Ok(Maintenance {
        host: host.to_owned(),
        moved,
    })
}

/// For xo-sim: a host with resident VMs and another enabled host in its
/// pool to take them.
pub async fn evacuable_host(client: &xo_sdk::Client) -> Result<String, BoxError> {
    let hosts: Vec<Host> = client
        .hosts()
        .list()
        .select(["id", "$pool", "enabled", "residentVms"])
        .send()
        .await?;
    let enabled_in = |pool: &Option<String>| {
        hosts
            .iter()
            .filter(|h| &h.pool == pool && h.enabled == Some(true))
            .count()
    };
    hosts
        .iter()
        .filter(|h| h.resident_vms.as_ref().is_some_and(|r| !r.is_empty()))
        .filter(|h| enabled_in(&h.pool) >= 2)
        .find_map(|h| h.id.clone())
        .ok_or_else(|| "no host whose VMs could move to another host".into())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    common::require_yes(
        &target,
        "This migrates every VM off the host and disables it",
    );
    let client = &target.client;
    let host = match common::positional_args().first() {
        Some(wanted) => {
            common::resolve(client.hosts().list(), "name_label", wanted, "host").await?
        }
        None if target.is_simulated() => evacuable_host(client).await?,
        None => return Err("name the host (id or name)".into()),
    };
    let simulated = target.is_simulated();
    run(client, &host, async move {
        if !simulated {
            common::wait_for_enter("Do the maintenance work, then press Enter to enable the host.")
                .await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}
