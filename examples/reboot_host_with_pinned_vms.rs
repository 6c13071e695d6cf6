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
use xo_sdk::xo::{Action, Collection, FinishedTask};

/// How the reboot went.
#[derive(Debug)]
pub struct Reboot {
    /// The host.
    pub host: String,
    /// The VMs resident on it before the reboot.
    pub residents_before: Vec<String>,
    /// The VMs resident on it after.
    pub residents_after: Vec<String>,
    /// The smart_reboot task.
    pub task: FinishedTask,
}

/// Smart-reboot `host` and wait for it.
pub async fn run(client: &xo_sdk::Client, host: &str) -> Result<Reboot, BoxError> {
    let before = client.hosts().get(host).send().await?;
    let name = before.name_label.unwrap_or_default();
    // `residentVms` lists the host's control domain (dom0) too.
    let guests = |vms: Option<Vec<String>>, dom0: &Option<String>| -> Vec<String> {
        let vms = vms.unwrap_or_default().into_iter();
        vms.filter(|vm| Some(vm) != dom0.as_ref()).collect()
    };
    let residents_before = guests(before.resident_vms, &before.control_domain);
    println!(
        "Smart-rebooting {name:?} with {} resident VMs",
        residents_before.len()
    );

    let task = client
        .hosts()
        .smart_reboot(host)
        .bypass_blocked_suspend(false)
        .submit()
        .await?;
    println!("smart_reboot runs as task {}", task.id());
    let done = task.wait().await?;
    if let Some(failure) = done.failure() {
        return Err(failure.into());
    }

    let after = client.hosts().get(host).send().await?;
    let residents_after = guests(after.resident_vms, &after.control_domain);
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
        host: host.to_owned(),
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
        Some(wanted) => {
            common::resolve(client.hosts().list(), "name_label", wanted, "host").await?
        }
        None if target.is_simulated() => {
            let hosts = client.hosts().list().refs().await?;
            hosts.first().ok_or("no host")?.id().to_owned()
        }
        None => return Err("name the host (id or name)".into()),
    };
    run(client, &host).await?;
    Ok(())
}
