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

use std::collections::HashMap;
use std::future::Future;

use common::BoxError;
use xo_sdk::prelude::*;

/// Where the host's VMs went.
#[derive(Debug)]
pub struct Maintenance {
    /// The host.
    pub host: HostId,
    /// Each VM resident on the host before, and where it runs after the
    /// evacuation (its `$container`: a host).
    pub moved: Vec<(VmId, Option<ContainerId>)>,
}

/// Put `host` in maintenance, run `work`, and take it out again. When
/// `work` fails, the host stays disabled and the error is returned.
pub async fn run<W>(client: &Client, host: &HostId, work: W) -> Result<Maintenance, BoxError>
where
    W: Future<Output = Result<(), BoxError>>,
{
    let before = client.hosts().get(host).send().await?;
    let name = before.name_label.clone().unwrap_or_default();
    // `residentVms` lists the host's control domain (dom0) too: it stays.
    let dom0 = before.control_domain.as_ref().map(|d| d.as_str());
    let residents: Vec<VmId> = before
        .resident_vms
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|vm| Some(vm.as_str()) != dom0)
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

    let host_names: HashMap<HostId, String> = client
        .hosts()
        .list()
        .select([Host::ID, Host::NAME_LABEL])
        .send()
        .await?
        .into_iter()
        .filter_map(|h| Some((h.id?, h.name_label.unwrap_or_default())))
        .collect();
    let mut moved = Vec::new();
    for vm_id in residents {
        let vm = client.vms().get(&vm_id).send().await?;
        let now_on = vm
            .container
            .as_ref()
            .and_then(|c| host_names.get(c.as_str()))
            .map_or("(unknown)", String::as_str);
        println!(
            "  {:?} is now on {now_on:?}",
            vm.name_label.unwrap_or_default()
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
        host: host.clone(),
        moved,
    })
}

/// For xo-sim: a host with resident VMs and another enabled host in its
/// pool to take them.
pub async fn evacuable_host(client: &Client) -> Result<HostId, BoxError> {
    let hosts: Vec<Host> = client
        .hosts()
        .list()
        .select([Host::ID, Host::POOL, Host::ENABLED, Host::RESIDENT_VMS])
        .send()
        .await?;
    let enabled_in = |pool: &Option<PoolId>| {
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
        Some(wanted) => common::host(client, wanted)
            .await?
            .id
            .ok_or("XO sent a host without id")?,
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
