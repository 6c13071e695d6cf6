//! Reboot a host that has non-migratable VMs: the DADL example of the same
//! name in Rust.
//!
//! `smart_reboot` suspends the host's VMs, reboots it, and resumes them in
//! place: no other host needs to take them, so it works for VMs pinned to
//! the host (PCI passthrough, vGPU, local storage). It runs as a task,
//! followed here to its end.
//!
//! `bypassBlockedSuspend: false`: a VM that cannot be suspended makes XO
//! refuse the reboot instead of forcing it (XO 6.6+).
//!
//! Against a real XO it needs the host and `--yes`.
//!
//! ```sh
//! cargo run --example reboot_host_with_pinned_vms            # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example reboot_host_with_pinned_vms -- xcp-host-01 --yes
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::xo::FinishedTask;

/// How the reboot went.
#[derive(Debug)]
pub struct Reboot {
    /// The host.
    pub host: HostId,
    /// The VMs resident on it before the reboot.
    pub residents_before: Vec<VmId>,
    /// The VMs resident on it after.
    pub residents_after: Vec<VmId>,
    /// The smart_reboot task.
    pub task: FinishedTask,
}

/// Smart-reboot `host` and wait for it.
pub async fn run(client: &Client, host: &HostId) -> Result<Reboot, BoxError> {
    let before = client.hosts().get(host).send().await?;
    let name = before.name_label.clone().unwrap_or_default();
    // `residentVms` lists the host's control domain (dom0) too.
    let guests = |host: Host| -> Vec<VmId> {
        let dom0 = host.control_domain;
        let vms = host.resident_vms.unwrap_or_default().into_iter();
        vms.filter(|vm| Some(vm.as_str()) != dom0.as_ref().map(|d| d.as_str()))
            .collect()
    };
    let residents_before = guests(before);
    println!(
        "Smart-rebooting {name:?} with {} resident VMs",
        residents_before.len()
    );

    let task = client
        .hosts()
        .smart_reboot(host)
        .bypass_blocked_suspend(false)
        .send()
        .await?;
    println!("smart_reboot runs as task {}", task.id());
    let done = task.wait().await?;
    if let Some(failure) = done.failure() {
        return Err(failure.into());
    }

    let residents_after = guests(client.hosts().get(host).send().await?);
    let resumed = residents_before
        .iter()
        .filter(|vm| residents_after.contains(vm))
        .count();
    println!(
        "{name:?} rebooted ({}); {resumed}/{} VMs resumed in place",
        done.status(),
        residents_before.len()
    );
    Ok(Reboot {
        host: host.clone(),
        residents_before,
        residents_after,
        task: done,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    common::require_yes(&target, "This suspends the host's VMs and reboots it");
    let client = &target.client;
    let host = match common::positional_args().first() {
        Some(wanted) => common::host(client, wanted)
            .await?
            .id
            .ok_or("XO sent a host without id")?,
        None if target.is_simulated() => {
            let hosts = client.hosts().list().send().await?;
            hosts.first().ok_or("no host")?.id()
        }
        None => return Err("name the host (id or name)".into()),
    };
    run(client, &host).await?;
    Ok(())
}
