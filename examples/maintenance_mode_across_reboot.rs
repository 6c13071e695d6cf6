//! Hardware intervention, a maintenance mode that survives a reboot (XO
//! 6.7+): the DADL example of the same name in Rust.
//!
//! 1. Disable the host with `evacuate: true` and `autoEnable: false`:
//!    without it the host re-enables itself when it boots, and XAPI starts
//!    placing VMs on it while you are still working on it.
//! 2. Shut it down cleanly.
//! 3. The hardware work (swap the disk, the RAM, …).
//! 4. Power it back on: by hand, or through XO (`start_host`: wake-on-LAN or
//!    IPMI, when the host's power-on mode is configured); wait until XO sees
//!    it running.
//! 5. Enable it.
//!
//! Against a real XO it needs the host and `--yes`; it waits for Enter
//! after the shutdown, then for the host to come back (`--power-on` asks
//! XO to power it on).
//!
//! ```sh
//! cargo run --example maintenance_mode_across_reboot          # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example maintenance_mode_across_reboot -- xcp-host-02 --power-on --yes
//! ```

#[path = "common/mod.rs"]
mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::HostPowerState;

/// How the host comes back after the hardware work.
#[derive(Debug, Clone, Copy)]
pub enum PowerOn {
    /// Ask XO to power it on (`start_host`), then wait for it.
    ThroughXo,
    /// Someone presses the power button: wait at most this long.
    ByHand(Duration),
}

/// What happened.
#[derive(Debug)]
pub struct Intervention {
    /// The host.
    pub host: HostId,
    /// How long it was powered off, work included.
    pub downtime: Duration,
}

/// Take `host` through a hardware intervention (`work` runs while it is
/// off), checking XO every `poll` while waiting for it to come back.
pub async fn run<W>(
    client: &Client,
    host: &HostId,
    work: W,
    power_on: PowerOn,
    poll: Duration,
) -> Result<Intervention, BoxError>
where
    W: Future<Output = Result<(), BoxError>>,
{
    let name = client
        .hosts()
        .get(host)
        .send()
        .await?
        .name_label
        .unwrap_or_default();

    // XO 6.7+: older releases reject `autoEnable` (422).
    client
        .hosts()
        .disable(host)
        .evacuate(true)
        .auto_enable(false)
        .run_sync()
        .await?;
    println!("{name:?} is disabled (stays so across reboots) and evacuated");

    client.hosts().clean_shutdown(host).run_sync().await?;
    let off = Instant::now();
    println!("{name:?} is shut down");

    work.await
        .map_err(|e| format!("hardware work failed, {name:?} is off and disabled: {e}"))?;

    let deadline = match power_on {
        PowerOn::ThroughXo => {
            println!("Asking XO to power {name:?} on");
            client.hosts().start(host).run_sync().await?;
            Duration::from_secs(30 * 60)
        }
        PowerOn::ByHand(wait) => {
            println!("Waiting for {name:?} to be powered on");
            wait
        }
    };
    wait_until_running(client, host, deadline, poll).await?;
    let downtime = off.elapsed();
    println!("{name:?} is back after {downtime:.0?}, still disabled");

    client.hosts().enable(host).run_sync().await?;
    println!("{name:?} is enabled: XAPI may place VMs on it again");
    Ok(Intervention {
        host: host.clone(),
        downtime,
    })
}

/// Poll the host's power state until it is `Running`.
async fn wait_until_running(
    client: &Client,
    host: &HostId,
    deadline: Duration,
    poll: Duration,
) -> Result<(), BoxError> {
    let started = Instant::now();
    loop {
        // Booting hosts make XO answer errors now and then: only the
        // deadline ends the wait.
        match client.hosts().get(host).send().await {
            Ok(h) if h.power_state == Some(HostPowerState::Running) => return Ok(()),
            Ok(_) => {}
            Err(e) => eprintln!("  (XO: {e})"),
        }
        if started.elapsed() >= deadline {
            return Err(format!("the host is not running after {deadline:?}").into());
        }
        tokio::time::sleep(poll).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    common::require_yes(
        &target,
        "This evacuates the host, shuts it down and keeps it disabled until it is back",
    );
    let client = &target.client;
    let host = match common::positional_args().first() {
        Some(wanted) => common::host(client, wanted)
            .await?
            .id
            .ok_or("XO sent a host without id")?,
        None if target.is_simulated() => first_non_master(client).await?,
        None => return Err("name the host (id or name)".into()),
    };
    let simulated = target.is_simulated();
    let power_on = if simulated || common::flag("--power-on") {
        PowerOn::ThroughXo
    } else {
        PowerOn::ByHand(Duration::from_secs(4 * 3600))
    };
    let work = async move {
        if !simulated {
            common::wait_for_enter("Do the hardware work, then press Enter.").await?;
        }
        Ok(())
    };
    let poll = if simulated {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(15)
    };
    run(client, &host, work, power_on, poll).await?;
    Ok(())
}

/// For xo-sim: a host that is not its pool's master (with the master off,
/// the pool has no coordinator until it is back).
pub async fn first_non_master(client: &Client) -> Result<HostId, BoxError> {
    let pools = client.pools().list().select([Pool::MASTER]).send().await?;
    let masters: Vec<HostId> = pools.into_iter().filter_map(|p| p.master).collect();
    let hosts = client.hosts().list().send().await?;
    hosts
        .iter()
        .map(Href::id)
        .find(|h: &HostId| !masters.contains(h))
        .ok_or_else(|| "every host is a pool master".into())
}
